/**
 * Reaching Redis: where it is (a redis:// or rediss:// URL), its password, TLS, and how the address is printed.
 *
 * The password comes from a file (--redis-password-file) or STS_REDIS_PASSWORD, not from the command line, where
 * every user of the machine sees it (`ps`); one in the URL still works. It is kept apart from the URL and never
 * printed: every line that names the server shows `describeRedis(target)`, the URL with `***` for the password,
 * and ioredis' own error texts are passed through `redactSecret` before they are shown. `rediss://` gives TLS
 * (Node's certificate checks; a private CA is trusted with NODE_EXTRA_CA_CERTS=<ca.pem>, as for any Node program).
 */
import { readFile } from 'node:fs/promises';
import { Redis, type RedisOptions } from 'ioredis';
import { ArgumentError, StsError } from '../errors.js';

export const DEFAULT_REDIS = 'redis://127.0.0.1:6379';
/** The environment variable a worker or producer reads the Redis password from. */
export const REDIS_PASSWORD_ENV = 'STS_REDIS_PASSWORD';

/** A Redis server as sts reaches it: the URL without its password, and the password. */
export interface RedisTarget {
  /** redis://[user@]host[:port][/db], or rediss:// for TLS; never holds the password. */
  readonly url: string;
  readonly password?: string;
}

/** The text of `url` with any password in it replaced by `***` (also for text that is not a valid URL). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^/@:]*:)[^@]*@/, '$1***@');
  }
}

/** `text` with every occurrence of the password replaced by `***`. */
export function redactSecret(text: string, target: RedisTarget): string {
  return target.password ? text.split(target.password).join('***') : text;
}

/** The server as every log and status line names it: the URL, with `***` where a password is used. */
export function describeRedis(target: RedisTarget): string {
  if (target.password === undefined) return target.url;
  const u = new URL(target.url);
  u.password = '***';
  return u.toString();
}

export interface RedisTargetOptions {
  /** --redis */
  readonly redis: string;
  /** --redis-password-file: a file whose content (one trailing newline dropped) is the password. */
  readonly redisPasswordFile?: string;
}

/**
 * The server and password the options and the environment name. The password may come from one place only: the
 * file, STS_REDIS_PASSWORD or the URL; two are refused (which one was meant is not guessed).
 */
export async function redisTarget(o: RedisTargetOptions, env: NodeJS.ProcessEnv = process.env): Promise<RedisTarget> {
  let u: URL;
  try {
    u = new URL(o.redis);
  } catch {
    throw new ArgumentError('--redis', `'${redactUrl(o.redis)}' is not a URL; give redis://host:port (or rediss://host:port for TLS), e.g. ${DEFAULT_REDIS}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new ArgumentError('--redis', `'${redactUrl(o.redis)}' is not a redis:// or rediss:// (TLS) URL; e.g. ${DEFAULT_REDIS}`);
  }
  if (u.search || u.hash) {
    throw new ArgumentError('--redis', `'${redactUrl(o.redis)}': sts takes no query or fragment in the URL, only redis[s]://[user@]host[:port][/db]`);
  }
  if (u.pathname.length > 1 && !/^\/\d+$/.test(u.pathname)) {
    throw new ArgumentError('--redis', `'${redactUrl(o.redis)}': the path must be a database number (/0, /1, ...)`);
  }
  const sources: [string, string][] = [];
  if (o.redisPasswordFile !== undefined) {
    const text = await readFile(o.redisPasswordFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new ArgumentError('--redis-password-file', `${o.redisPasswordFile}: cannot read it (${error.code ?? error.message}); give a file holding the Redis password`);
    });
    const password = text.replace(/\r?\n$/, '');
    if (password === '') throw new ArgumentError('--redis-password-file', `${o.redisPasswordFile} is empty; write the Redis password in it`);
    sources.push(['--redis-password-file', password]);
  }
  if (env[REDIS_PASSWORD_ENV]) sources.push([REDIS_PASSWORD_ENV, env[REDIS_PASSWORD_ENV]]);
  if (u.password) sources.push(['the --redis URL', decodeURIComponent(u.password)]);
  if (sources.length > 1) {
    throw new ArgumentError('--redis-password-file', `the Redis password is given ${sources.length} times (${sources.map(([where]) => where).join(', ')}); give it once`);
  }
  u.password = '';
  return { url: u.toString(), ...(sources.length ? { password: sources[0][1] } : {}) };
}

/** ioredis options for `target`: host, port, user, password, database and TLS taken apart, so no URL holds the password. */
export function redisOptions(target: RedisTarget): RedisOptions {
  const u = new URL(target.url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** What to do about a failed connection, from ioredis' error. */
function remedy(message: string): string {
  if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return `give the server's password with --redis-password-file <file> or ${REDIS_PASSWORD_ENV} (and its user in the URL, redis://user@host:port, where it has one)`;
  }
  if (/certificate|self[- ]signed|SSL|TLS|EPROTO|wrong version number/i.test(message)) {
    return 'check that the server speaks TLS when the URL is rediss:// (plain redis:// when it does not), and trust its CA with NODE_EXTRA_CA_CERTS=<ca.pem>';
  }
  return 'start redis-server there, or give the right address with --redis';
}

/** A connection for BullMQ (which needs maxRetriesPerRequest: null), after checking that Redis answers. */
export async function connect(target: RedisTarget): Promise<Redis> {
  const options = redisOptions(target);
  const probe = new Redis({ ...options, lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis reports the cause (ECONNREFUSED, ENOTFOUND, a TLS error) as an event and rejects with a generic error.
  let cause: Error | undefined;
  probe.on('error', (error: Error) => (cause ??= error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    const message = redactSecret((cause ?? (error as Error)).message, target);
    throw new StsError(`cannot reach Redis at ${describeRedis(target)} (${message}); ${remedy(message)}`);
  } finally {
    probe.disconnect();
  }
  const connection = new Redis({ ...options, maxRetriesPerRequest: null });
  connection.on('error', () => {});
  return connection;
}
