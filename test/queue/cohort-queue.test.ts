/**
 * The cohort queue end to end, with real redis-servers on 127.0.0.1 (free ports) and worker processes:
 * - three workers on 30 small images, one SIGKILLed in the middle of a job: every image ends with exactly one
 *   complete result folder equal to what `sts predict` writes, no job completed twice, the killed job retried by
 *   another worker; a broken image ends failed with its error without blocking the others;
 * - jobs a stranger could write into Redis: paths outside the worker's roots (directly, through a symlink, through
 *   `..`), an image above --max-pixels, a missing image, records that are not JSON, other versions' options: each
 *   fails at once with its reason, nothing outside the roots is read or written, `status` lists them all;
 * - a 6,144 x 6,144 PNG with two workers and a 1 s lock runs exactly once (the job runs in a worker thread);
 * - an idle worker told SIGTERM while Redis is down exits within seconds, saying so;
 * - a password-protected Redis and one behind TLS: the password comes from a file or the environment, and no
 *   line any command prints holds it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { packageRoot } from '../../src/paths.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';
import { tempDir } from '../support/datasets.js';
import { until } from '../support/until.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const MODELS = FIXTURE_MODELS;
const IMAGE = join(packageRoot, 'test/fixtures/web/dsb2018-00071198.png');
const unavailable = spawnSync('redis-server', ['--version']).status === 0 ? false : 'redis-server is not installed (the set-up installs it: scripts/install-redis.sh)';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A redis-server of its own on 127.0.0.1, ready when this resolves. */
async function startRedis(args: string[] = [], cliArgs: string[] = [], tls = false): Promise<{ server: ChildProcess; port: number; url: string }> {
  const port = await freePort();
  const server = spawn('redis-server', [...(tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)]), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' });
  await until('redis-server', () => spawnSync('redis-cli', ['-p', String(port), ...cliArgs, 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG', 15_000);
  return { server, port, url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}` };
}

const exited = (p: ChildProcess) => new Promise<number | null>((res) => (p.exitCode !== null ? res(p.exitCode) : p.on('exit', (c) => res(c))));

describe('sts queue (BullMQ on Redis)', { skip: unavailable }, () => {
  let dir: string;
  let redis: ChildProcess;
  let port: number;
  let url: string;
  const workers: ChildProcess[] = [];
  const servers: ChildProcess[] = [];
  const logs: string[] = [];
  before(async () => {
    dir = tempDir('sts-queue-');
    ({ server: redis, port, url } = await startRedis());
  });
  after(async () => {
    for (const w of workers) w?.kill('SIGKILL');
    for (const s of [redis, ...servers]) s?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sts = (args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) =>
    spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: o.cwd, env: { ...process.env, STS_THREADS: '1', ...o.env } });
  /** Worker k on `args` (queue, roots, ...), its stderr gathered in logs[k]. */
  const startWorker = (k: number, args: string[], env: Record<string, string> = {}) => {
    const w = spawn(process.execPath, [cli, 'queue', 'work', ...args], { env: { ...process.env, STS_THREADS: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    logs[k] = '';
    w.stderr!.on('data', (d: Buffer) => (logs[k] += d.toString()));
    workers[k] = w;
    return w;
  };
  const lines = (k: number, kind: string) => logs[k].split('\n').filter((l) => l.startsWith(`${kind} `));
  const redisCli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
  const pair = ['--rough', join(MODELS, 'cells-rough'), '--fine', join(MODELS, 'cells-fine')];

  it('three workers, one SIGKILLed mid-job: every image once, as sts predict writes it; a bad image fails alone', async () => {
    const images = join(dir, 'images');
    mkdirSync(images);
    const names = Array.from({ length: 30 }, (_, i) => `img${String(i).padStart(2, '0')}.png`);
    for (const n of names) copyFileSync(IMAGE, join(images, n));
    copyFileSync(IMAGE, join(images, 'zz-broken.png'));
    truncateSync(join(images, 'zz-broken.png'), 600);
    const out = join(dir, 'out');
    const roots = ['--redis', url, '--inputs', images, '--out', out, '--models', MODELS, '--lock-duration', '3000', '--stalled-interval', '1000'];
    mkdirSync(out);

    // img00 first, alone, so that the worker set to pause on it takes it.
    const first = sts(['queue', 'add', '--redis', url, ...pair, '--out', out, join(images, 'img00.png')]);
    assert.equal(first.status, 0, first.stderr);
    const pauseFile = join(dir, 'paused');
    startWorker(0, roots, { STS_TEST_PAUSE: 'before-place', STS_TEST_PAUSE_NAME: 'img00', STS_TEST_PAUSE_FILE: pauseFile });
    await until('worker 0 to pause in the middle of img00', () => existsSync(pauseFile));
    const all = sts(['queue', 'add', '--redis', url, ...pair, '--out', out, images]);
    assert.equal(all.status, 0, all.stderr);
    assert.match(all.stderr, /added 30 jobs \(1 already queued or done\)/);
    startWorker(1, roots);
    startWorker(2, roots);
    // The process that runs the jobs (sts reruns itself on jemalloc: the pid the worker reports, not the launcher's;
    // its job threads die with it).
    const pid = Number(await until('worker 0 to report its pid', () => /^worker (\d+) on /m.exec(logs[0])?.[1]));
    const img00 = await until('worker 0 to start img00', () => lines(0, 'started').find((l) => l.includes('img00.png'))?.split(' ')[1]);
    process.kill(pid, 'SIGKILL');
    workers[0].kill('SIGKILL');
    const killedAt = Date.now();
    // Its lock (3 s here) runs out and a stalled check (every 1 s) gives the job to a living worker.
    await until('the killed job to start again elsewhere', () => [1, 2].some((k) => lines(k, 'started').some((l) => l.includes(img00))), 60_000);
    const recovery = (Date.now() - killedAt) / 1000;
    console.log(`# the SIGKILLed worker's job started again on another worker ${recovery.toFixed(1)} s after the kill (lock 3 s, stalled check every 1 s)`);
    assert.ok(recovery < 20, `recovered in ${recovery} s`);

    await until('all jobs to end', () => {
      const s = sts(['queue', 'status', '--redis', url]);
      return /0 waiting, 0 active, 0 retrying later, 30 done, 1 failed/.test(s.stdout) && s;
    }, 120_000);
    const status = sts(['queue', 'status', '--redis', url]).stdout;
    assert.match(status, /failed: .*zz-broken\.png: .*zz-broken\.png: cannot decode this image/);
    assert.match(status, /throughput \d+\.\d+ images\/s/);

    // Exactly one completion per job, across the living workers (the killed one completed none).
    const completed = await until('30 completions in the logs', () => {
      const c = [1, 2].flatMap((k) => lines(k, 'completed').map((l) => l.split(' ')[1]));
      return c.length >= 30 && c;
    }, 10_000);
    assert.equal(completed.length, 30);
    assert.equal(new Set(completed).size, 30, 'no job completed twice');
    assert.equal(lines(0, 'completed').length, 0);
    const badTries = await until('three failed tries of the bad image in the logs', () => {
      const n = [1, 2].flatMap((k) => lines(k, 'failed')).filter((l) => l.includes('zz-broken')).length;
      return n >= 3 && n;
    }, 10_000);
    assert.equal(badTries, 3, 'a file that may still be being written is tried 3 times, with backoff, then left failed');

    // One complete folder per image, nothing half-written, each equal to sts predict's.
    assert.deepEqual(readdirSync(out).sort(), names.map((n) => n.replace('.png', '')));
    const reference = join(dir, 'reference');
    const r = sts(['predict', ...pair, '--out', reference, images]);
    assert.equal(r.status, 1, 'sts predict names the broken image too');
    for (const n of names.map((x) => x.replace('.png', ''))) {
      for (const file of ['mask.png', 'objects.csv']) {
        assert.ok(readFileSync(join(out, n, file)).equals(readFileSync(join(reference, n, file))), `${n}/${file} equals sts predict's`);
      }
    }

    // Adding the folder again adds nothing; retry-failed puts the bad image back; SIGTERM stops a worker cleanly.
    assert.match(sts(['queue', 'add', '--redis', url, ...pair, '--out', out, images]).stderr, /added 0 jobs \(31 already queued or done\)/);
    writeFileSync(join(images, 'zz-broken.png'), readFileSync(IMAGE));
    assert.match(sts(['queue', 'retry-failed', '--redis', url]).stdout, /1 failed job back in the queue/);
    await until('the retried image', () => existsSync(join(out, 'zz-broken', 'summary.json')));
    for (const k of [1, 2]) workers[k].kill('SIGTERM');
    assert.deepEqual(await Promise.all([1, 2].map((k) => exited(workers[k]))), [0, 0]);
    assert.ok(lines(1, 'worker').length + lines(2, 'worker').length >= 2);
  });

  it('refuses, at once and by name, every job that names a path outside its roots, an image above --max-pixels or a record that is not JSON; reads and writes nothing outside the roots', async () => {
    const { Queue } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const { createModel } = await import('../../src/models/index.js');
    const { saveModel } = await import('../../src/engine/model-files.js');
    await import('../support/engine.js');
    const h = join(dir, 'hostile');
    const [inputs, out, models, secret] = ['in', 'out', 'models', 'private'].map((f) => join(h, f));
    for (const f of [inputs, out, models, secret]) mkdirSync(f, { recursive: true });
    // The worker's user has a private folder beside its roots: a job must not copy from it or write into it.
    copyFileSync(IMAGE, join(secret, 'secret.png'));
    writeFileSync(join(secret, 'notes.txt'), 'keep me');
    chmodSync(join(secret, 'secret.png'), 0o600);
    chmodSync(secret, 0o700);
    const privateBefore = readdirSync(secret).sort();
    copyFileSync(IMAGE, join(inputs, 'ok.png'));
    copyFileSync(IMAGE, join(inputs, 'rel.png'));
    symlinkSync(join(secret, 'secret.png'), join(inputs, 'link.png'));
    symlinkSync('/etc', join(models, 'system'));
    await sharp({ create: { width: 400, height: 400, channels: 3, background: { r: 30, g: 30, b: 30 } } }).png().toFile(join(inputs, 'big.png'));
    const small = createModel({ name: 'unet', size: 32, channels: 3, features: 2 }, { seed: 3 });
    await saveModel(join(models, 'fine-32'), small, {});
    small.dispose();

    const models_ = { rough: join(MODELS, 'cells-rough'), fine: join(MODELS, 'cells-fine') };
    const options = { batch: 8, tiling: true, dropPolicy: 'reference', resize: 'nearest' };
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const queue = new Queue('hostile', { connection });
    after(async () => {
      await queue.close();
      connection.disconnect();
    });
    const add = (id: string, data: Record<string, unknown>) =>
      queue.add('predict', { image: join(inputs, 'ok.png'), out, model: models_, options, format: 1, producer: '0.1.0', ...data }, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 200 } });
    await add('good', {});
    await add('image-outside', { image: join(secret, 'secret.png') });
    await add('image-symlink-out', { image: join(inputs, 'link.png') });
    await add('image-missing', { image: join(inputs, 'gone.png') });
    await add('image-missing-outside', { image: '/nonexistent-sts/x.png' });
    await add('image-relative', { image: 'in/ok.png' });
    await add('out-outside', { out: secret });
    await add('out-dotdot', { out: `${out}/../private` });
    await add('model-file-outside', { model: { rough: '/etc/passwd', fine: models_.fine } });
    await add('model-symlink-out', { model: { rough: join(models, 'system', 'passwd'), fine: models_.fine } });
    await add('too-many-pixels', { image: join(inputs, 'big.png') });
    await add('newer-options', { options: { ...options, tileSize: 512 }, producer: '0.2.0' });
    await add('newer-format', { format: 2, producer: '0.3.0' });
    await add('misfit-pair', { model: { rough: models_.rough, fine: join(models, 'fine-32') } });
    await add('data-null', {});
    redisCli('HSET', 'bull:hostile:data-null', 'data', 'null');
    await add('opts-not-json', {});
    redisCli('HSET', 'bull:hostile:opts-not-json', 'opts', '{attempts: 3');
    // A job written straight into Redis, as BullMQ stores one (a hash, the wait list, the marker that wakes workers).
    redisCli('HSET', 'bull:hostile:raw-not-json', 'name', 'predict', 'data', '{"image": /etc/passwd', 'opts', '{"attempts":3}', 'timestamp', String(Date.now()), 'delay', '0', 'priority', '0');
    redisCli('LPUSH', 'bull:hostile:wait', 'raw-not-json');
    redisCli('ZADD', 'bull:hostile:marker', '0', '0');
    // queue add from another folder, with relative paths: stored absolute, so the worker (another folder) finds them.
    const rel = sts(['queue', 'add', '--redis', url, '--queue', 'hostile', ...pair, '--out', 'out', 'in/rel.png'], { cwd: h });
    assert.equal(rel.status, 0, rel.stderr);
    const relId = redisCli('LRANGE', 'bull:hostile:wait', '0', '0');
    const relData = JSON.parse(redisCli('HGET', `bull:hostile:${relId}`, 'data')) as { image: string; out: string };
    assert.deepEqual([relData.image, relData.out], [join(inputs, 'rel.png'), out]);

    const total = 18;
    startWorker(3, ['--redis', url, '--queue', 'hostile', '--inputs', inputs, '--out', out, '--models', MODELS, '--models', models, '--max-pixels', '100000']);
    const counts = () => queue.getJobCounts('wait', 'active', 'delayed', 'completed', 'failed');
    await until('every job to end: 2 completed, 16 failed', async () => {
      const c = await counts();
      return c.wait === 0 && c.active === 0 && c.delayed === 0 && c.completed === 2 && c.failed === 16;
    }, 60_000);
    const reason = (id: string) => redisCli('HGET', `bull:hostile:${id}`, 'failedReason');
    const expected: Record<string, RegExp> = {
      'image-outside': /^the job's image .*private\/secret\.png is outside this worker's --inputs \(.*hostile\/in\); refused, nothing was read or written/,
      'image-symlink-out': /^the job's image .*in\/link\.png \(really .*private\/secret\.png\) is outside this worker's --inputs/,
      'image-missing': /in\/gone\.png: the job's image does not exist on this worker/,
      'image-missing-outside': /^the job's image \/nonexistent-sts\/x\.png is outside this worker's --inputs/,
      'image-relative': /^the job's image 'in\/ok\.png' is not an absolute path/,
      'out-outside': /^the job's output folder .*private is outside this worker's --out/,
      'out-dotdot': /^the job's output folder .*out\/\.\.\/private \(really .*hostile\/private\) is outside this worker's --out/,
      'model-file-outside': /^the job's rough model \/etc\/passwd is outside this worker's --models/,
      'model-symlink-out': /^the job's rough model .*models\/system\/passwd \(really \/etc\/passwd\) is outside this worker's --models/,
      'too-many-pixels': /big\.png: 400 x 400 = 160,000 pixels, above --max-pixels 100,000; refused before reading its pixels/,
      'newer-options': /the job was made by sts 0\.2\.0 \(job format 1\) with options this worker does not take: unknown option 'tileSize'; run the same sts version/,
      'newer-format': /the job was made by sts 0\.3\.0 \(job format 2\), which this worker does not read/,
      'misfit-pair': /the rough model \(.*cells-rough\) takes 64 x 64 inputs but the fine model \(.*fine-32\) takes 32 x 32/,
      'data-null': /^the job's data is null, not an object/,
      'opts-not-json': /^the job's opts is not JSON \(written into Redis by something other than sts queue add\); it cannot be run/,
      'raw-not-json': /^the job's data is not JSON/,
    };
    for (const [id, pattern] of Object.entries(expected)) {
      assert.match(reason(id), pattern, id);
      if (id !== 'misfit-pair') {
        // Not retried: a retry cannot mend it (BullMQ's UnrecoverableError), and it is not left active.
        assert.equal(redisCli('HGET', `bull:hostile:${id}`, 'atm'), '1', `${id} failed on its first attempt`);
      }
      assert.equal(redisCli('ZSCORE', 'bull:hostile:failed', id) !== '', true, `${id} is failed`);
    }
    // The size of /etc/passwd, which a model folder naming it used to disclose, is not told.
    assert.doesNotMatch(reason('model-file-outside') + reason('model-symlink-out'), /bytes|size/);

    // Nothing outside the roots was read into a result or written: the private folder is as it was, and the
    // only results are those of the two good jobs.
    assert.deepEqual(readdirSync(secret).sort(), privateBefore);
    assert.equal(readFileSync(join(secret, 'notes.txt'), 'utf8'), 'keep me');
    assert.deepEqual(readdirSync(out).filter((f) => !f.startsWith('.')).sort(), ['ok', 'rel']);
    assert.ok(existsSync(join(out, 'ok', 'summary.json')) && existsSync(join(out, 'rel', 'summary.json')));

    // status lists every failure with its reason, the unreadable ones by job id; retry-failed leaves those failed.
    const status = sts(['queue', 'status', '--redis', url, '--queue', 'hostile']).stdout;
    assert.match(status, /failed: job raw-not-json: the job's data is not JSON/);
    assert.match(status, /failed: .*in\/link\.png: the job's image/);
    assert.equal(status.split('\n').filter((l) => l.startsWith('failed: ')).length, total - 2);
    const retry = sts(['queue', 'retry-failed', '--redis', url, '--queue', 'hostile']).stdout;
    assert.match(retry, /14 failed jobs back in the queue/);
    assert.match(retry, /2 failed jobs left failed: their records are not JSON \((opts-not-json, raw-not-json|raw-not-json, opts-not-json)\)/);
    workers[3].kill('SIGTERM');
    assert.equal(await exited(workers[3]), 0);
  });

  it('a 6,144 x 6,144 PNG with two workers and a 1 s lock runs exactly once: the job thread leaves the lock renewal free', async () => {
    const inputs = join(dir, 'large');
    const out = join(dir, 'large-out');
    mkdirSync(inputs);
    mkdirSync(out);
    // A dark field with bright discs: objects for the fine pass, a small file, 113 MB of pixels once decoded.
    const n = 6144;
    const discs = Array.from({ length: 12 }, (_, i) => `<circle cx="${((i % 4) + 1) * (n / 5)}" cy="${(Math.floor(i / 4) + 1) * (n / 4)}" r="${n / 30}" fill="rgb(200,200,200)"/>`).join('');
    const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${n}" height="${n}">${discs}</svg>`);
    await sharp({ create: { width: n, height: n, channels: 3, background: { r: 20, g: 20, b: 20 } } }).composite([{ input: svg }]).png({ compressionLevel: 1 }).toFile(join(inputs, 'large.png'));
    const args = ['--redis', url, '--queue', 'large', '--inputs', inputs, '--out', out, '--models', MODELS, '--lock-duration', '1000', '--stalled-interval', '500'];
    startWorker(4, args);
    startWorker(5, args);
    await until('both workers to be ready', () => [4, 5].every((k) => lines(k, 'worker').length > 0), 60_000);
    const added = sts(['queue', 'add', '--redis', url, '--queue', 'large', ...pair, '--out', out, join(inputs, 'large.png')]);
    assert.equal(added.status, 0, added.stderr);
    await until('the job to end', () => redisCli('ZCARD', 'bull:large:completed') === '1' || redisCli('ZCARD', 'bull:large:failed') !== '0', 120_000);
    assert.equal(redisCli('ZCARD', 'bull:large:failed'), '0', logs[4] + logs[5]);
    const started = [4, 5].flatMap((k) => lines(k, 'started'));
    assert.equal(started.length, 1, `started once, not again after a lost lock:\n${started.join('\n')}`);
    const id = started[0].split(' ')[1];
    assert.equal(redisCli('HGET', `bull:large:${id}`, 'ats'), '1', 'one attempt started');
    assert.equal(redisCli('HGET', `bull:large:${id}`, 'stc') || '0', '0', 'never declared stalled');
    assert.ok(existsSync(join(out, 'large', 'summary.json')));
    for (const k of [4, 5]) workers[k].kill('SIGTERM');
    await Promise.all([4, 5].map((k) => exited(workers[k])));
  });

  it('an idle worker told SIGTERM while Redis is down exits within seconds, saying so', async () => {
    const own = await startRedis();
    servers.push(own.server);
    const w = startWorker(6, ['--redis', own.url, '--inputs', dir, '--out', dir]);
    await until('the worker to be ready', () => lines(6, 'worker').length > 0, 60_000);
    own.server.kill('SIGKILL');
    await exited(own.server);
    await until('the worker to notice', () => /worker error: .*ECONNREFUSED/.test(logs[6]), 10_000);
    const t0 = Date.now();
    w.kill('SIGTERM');
    const code = await Promise.race([exited(w), new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(code, 0, `exit code after SIGTERM (${seconds.toFixed(1)} s):\n${logs[6]}`);
    assert.ok(seconds < 8, `exited ${seconds.toFixed(1)} s after SIGTERM`);
    assert.match(logs[6], new RegExp(`Redis at redis://127\\.0\\.0\\.1:${own.port} does not answer: stopping without it \\(no job is running\\)`));
    assert.match(logs[6], /worker stopped after 0 jobs/);
  });

  it('a Redis with a password (from a file or STS_REDIS_PASSWORD) and one behind TLS: the password is never printed', async () => {
    const { runQueueStatus } = await import('../../src/cli/commands/queue.js');
    const secret = `Tr0ub4dor-${Math.random().toString(36).slice(2, 10)}`;
    const passwordFile = join(dir, 'redis-password');
    writeFileSync(passwordFile, `${secret}\n`, { mode: 0o600 });
    const own = await startRedis(['--requirepass', secret], ['-a', secret, '--no-auth-warning']);
    servers.push(own.server);
    const shown = `redis://:\\*\\*\\*@127\\.0\\.0\\.1:${own.port}`;
    const outputs: string[] = [];
    // sts queue status in this process (the command's own code, without a process start each): its lines, or its error.
    const status = async (redis: string, o: { redisPasswordFile?: string; env?: Record<string, string> } = {}) => {
      const printed: string[] = [];
      const saved = process.env.STS_REDIS_PASSWORD;
      if (o.env?.STS_REDIS_PASSWORD) process.env.STS_REDIS_PASSWORD = o.env.STS_REDIS_PASSWORD;
      try {
        await runQueueStatus({ redis, queue: 'sts', ...(o.redisPasswordFile ? { redisPasswordFile: o.redisPasswordFile } : {}) }, (l) => printed.push(l), (l) => printed.push(l));
        return printed.join('\n');
      } catch (error) {
        return `error: ${(error as Error).message}`;
      } finally {
        if (saved === undefined) delete process.env.STS_REDIS_PASSWORD;
        else process.env.STS_REDIS_PASSWORD = saved;
        outputs.push(printed.join('\n'));
      }
    };
    const saved = process.env.STS_REDIS_PASSWORD;
    delete process.env.STS_REDIS_PASSWORD;
    after(() => (saved === undefined ? undefined : void (process.env.STS_REDIS_PASSWORD = saved)));

    const none = await status(own.url);
    outputs.push(none);
    assert.match(none, new RegExp(`^error: cannot reach Redis at redis://127\\.0\\.0\\.1:${own.port} \\(NOAUTH .*\\); give the server's password with --redis-password-file <file> or STS_REDIS_PASSWORD`));
    assert.match(await status(own.url, { redisPasswordFile: passwordFile }), new RegExp(`^sts at ${shown}: 0 waiting`, 'm'));
    assert.match(await status(own.url, { env: { STS_REDIS_PASSWORD: secret } }), new RegExp(`^sts at ${shown}: 0 waiting`, 'm'));
    const inUrl = await status(`redis://:${secret}@127.0.0.1:${own.port}`);
    assert.match(inUrl, /^note: the password in --redis is visible to every user of this machine \(ps\); give it with --redis-password-file <file> or STS_REDIS_PASSWORD instead$/m);
    assert.match(inUrl, new RegExp(`^sts at ${shown}: 0 waiting`, 'm'));
    const wrong = await status(`redis://:wrong-${secret}@127.0.0.1:${own.port}`);
    outputs.push(wrong);
    assert.match(wrong, /^error: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(WRONGPASS .*\); give the server's password/);
    const unreachable = await status('redis://127.0.0.1:1');
    assert.match(unreachable, /^error: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED 127\.0\.0\.1:1\); start redis-server there/m);
    // The command line as users run it: the same line, printed by the sts process.
    const cliStatus = sts(['queue', 'status', '--redis', own.url, '--redis-password-file', passwordFile]);
    outputs.push(cliStatus.stdout + cliStatus.stderr);
    assert.equal(cliStatus.status, 0, cliStatus.stderr);
    assert.match(cliStatus.stdout, new RegExp(`^sts at ${shown}: 0 waiting`, 'm'));

    // A worker and a producer on it: every line they print names the server without the password.
    const images = join(dir, 'auth-in');
    const out = join(dir, 'auth-out');
    mkdirSync(images);
    copyFileSync(IMAGE, join(images, 'a.png'));
    const w = startWorker(7, ['--redis', own.url, '--queue', 'auth', '--inputs', images, '--out', dir, '--models', MODELS], { STS_REDIS_PASSWORD: secret });
    const added = sts(['queue', 'add', '--redis', own.url, '--redis-password-file', passwordFile, '--queue', 'auth', ...pair, '--out', out, images]);
    outputs.push(added.stdout + added.stderr);
    assert.equal(added.status, 0, added.stderr);
    await until('the job to complete', () => lines(7, 'completed').length > 0, 60_000);
    assert.match(logs[7], new RegExp(`^worker \\d+ on auth at ${shown} `, 'm'));
    w.kill('SIGTERM');
    await exited(w);
    outputs.push(logs[7]);

    // TLS: rediss:// with the server's CA trusted through NODE_EXTRA_CA_CERTS, as for any Node program.
    const tls = join(dir, 'tls');
    mkdirSync(tls);
    const openssl = (...args: string[]) => assert.equal(spawnSync('openssl', args, { cwd: tls }).status, 0, `openssl ${args.join(' ')}`);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=sts test CA');
    openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(tls, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.cnf');
    const secure = await startRedis(
      ['--tls-cert-file', join(tls, 'server.pem'), '--tls-key-file', join(tls, 'server.key'), '--tls-ca-cert-file', join(tls, 'ca.pem'), '--tls-auth-clients', 'no', '--requirepass', secret],
      ['--tls', '--cacert', join(tls, 'ca.pem'), '-a', secret, '--no-auth-warning'],
      true,
    );
    servers.push(secure.server);
    // The CA is trusted through NODE_EXTRA_CA_CERTS, read when a Node process starts: the sts process, here.
    const trusted = sts(['queue', 'status', '--redis', secure.url, '--redis-password-file', passwordFile], { env: { NODE_EXTRA_CA_CERTS: join(tls, 'ca.pem') } });
    outputs.push(trusted.stdout + trusted.stderr);
    assert.equal(trusted.status, 0, trusted.stderr);
    assert.match(trusted.stdout, new RegExp(`^sts at rediss://:\\*\\*\\*@127\\.0\\.0\\.1:${secure.port}: 0 waiting`, 'm'));
    const untrusted = await status(secure.url, { redisPasswordFile: passwordFile });
    assert.match(untrusted, /^error: cannot reach Redis at rediss:\/\/:\*\*\*@.*(certificate|self-signed).*NODE_EXTRA_CA_CERTS=<ca\.pem>/);

    for (const output of outputs) assert.equal(output.includes(secret), false, `the password appears in:\n${output}`);
  });
});
