/**
 * Where the Redis password comes from and how the server is named in every printed line (src/queue/redis-connection.ts),
 * without a server; the queue test checks the same against a redis-server with --requirepass and one behind TLS.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeRedis, redactSecret, redactUrl, redisOptions, redisTarget } from '../../src/queue/redis-connection.js';
import { tempDir } from '../support/datasets.js';

/** Rejects with an error whose message matches `pattern`. */
const rejectsWith = (p: Promise<unknown>, pattern: RegExp) =>
  assert.rejects(p, (e: Error) => {
    assert.match(e.message, pattern);
    return true;
  });

describe('Redis address and password', () => {
  let dir: string;
  before(() => {
    dir = tempDir('sts-redis-');
    writeFileSync(join(dir, 'password'), 'from-file\n');
    writeFileSync(join(dir, 'empty'), '\n');
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('takes the password from a file, the environment or the URL, keeps it out of the URL, and shows *** for it', async () => {
    const file = await redisTarget({ redis: 'redis://10.0.0.5:6380/2', redisPasswordFile: join(dir, 'password') }, {});
    assert.deepEqual(file, { url: 'redis://10.0.0.5:6380/2', password: 'from-file' });
    assert.equal(describeRedis(file), 'redis://:***@10.0.0.5:6380/2');
    assert.deepEqual(redisOptions(file), { host: '10.0.0.5', port: 6380, password: 'from-file', db: 2 });
    const env = await redisTarget({ redis: 'rediss://worker@redis.internal' }, { STS_REDIS_PASSWORD: 'from-env' });
    assert.equal(describeRedis(env), 'rediss://worker:***@redis.internal');
    assert.deepEqual(redisOptions(env), { host: 'redis.internal', port: 6379, username: 'worker', password: 'from-env', tls: {} });
    const url = await redisTarget({ redis: 'redis://:p%40ss@127.0.0.1:6379' }, {});
    assert.deepEqual(url, { url: 'redis://127.0.0.1:6379', password: 'p@ss' });
    assert.equal(describeRedis(await redisTarget({ redis: 'redis://127.0.0.1:6379' }, {})), 'redis://127.0.0.1:6379');
  });

  it('refuses a password given twice, an empty or missing file, and what is not a redis:// or rediss:// URL, without echoing a password', async () => {
    await rejectsWith(redisTarget({ redis: 'redis://:secret1@h:1', redisPasswordFile: join(dir, 'password') }, { STS_REDIS_PASSWORD: 'x' }), /^--redis-password-file: the Redis password is given 3 times \(--redis-password-file, STS_REDIS_PASSWORD, the --redis URL\); give it once$/);
    await rejectsWith(redisTarget({ redis: 'redis://h:1', redisPasswordFile: join(dir, 'empty') }, {}), /empty is empty; write the Redis password in it/);
    await rejectsWith(redisTarget({ redis: 'redis://h:1', redisPasswordFile: join(dir, 'nope') }, {}), /nope: cannot read it \(ENOENT\)/);
    await assert.rejects(redisTarget({ redis: 'http://:secret2@h:1' }, {}), (e: Error) => /^--redis: 'http:\/\/:\*\*\*@h:1\/' is not a redis:\/\/ or rediss:\/\/ \(TLS\) URL/.test(e.message) && !e.message.includes('secret2'));
    await assert.rejects(redisTarget({ redis: 'redis://:secret3@h:1?password=x' }, {}), (e: Error) => /takes no query/.test(e.message) && !e.message.includes('secret3'));
    await rejectsWith(redisTarget({ redis: 'not a url' }, {}), /^--redis: 'not a url' is not a URL/);
    await rejectsWith(redisTarget({ redis: 'redis://h:1/db' }, {}), /the path must be a database number/);
  });

  it('redacts passwords in text it cannot parse as a URL, and in error texts', () => {
    assert.equal(redactUrl('redis://user:se cret@host:1'), 'redis://user:***@host:1');
    assert.equal(redactUrl('redis://host:1'), 'redis://host:1');
    assert.equal(redactSecret('WRONGPASS for hunter2 and hunter2', { url: 'redis://h', password: 'hunter2' }), 'WRONGPASS for *** and ***');
  });
});
