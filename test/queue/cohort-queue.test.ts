/**
 * The cohort queue end to end: its own redis-server on 127.0.0.1 (a free port), three worker processes on 30 small
 * images with a small model pair, one worker SIGKILLed in the middle of a job. Every image must end with exactly
 * one complete result folder equal to what `sts predict` writes, no job completed twice, the killed job retried by
 * another worker; a permanently failing image ends failed with its error without blocking the others.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
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

describe('sts queue (BullMQ on Redis)', { skip: unavailable }, () => {
  let dir: string;
  let redis: ChildProcess;
  let url: string;
  const workers: ChildProcess[] = [];
  const logs: string[] = [];
  before(async () => {
    dir = tempDir('sts-queue-');
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until('redis-server', () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG', 15_000);
  });
  after(async () => {
    for (const w of workers) w.kill('SIGKILL');
    redis?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sts = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, STS_THREADS: '1' } });
  const startWorker = (k: number, env: Record<string, string> = {}) => {
    const w = spawn(process.execPath, [cli, 'queue', 'work', '--redis', url, '--lock-duration', '3000', '--stalled-interval', '1000'], {
      env: { ...process.env, STS_THREADS: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    logs[k] = '';
    w.stderr!.on('data', (d: Buffer) => (logs[k] += d.toString()));
    workers[k] = w;
    return w;
  };
  const lines = (k: number, kind: string) => logs[k].split('\n').filter((l) => l.startsWith(`${kind} `));

  it('three workers, one SIGKILLed mid-job: every image once, as sts predict writes it; a bad image fails alone', async () => {
    const images = join(dir, 'images');
    mkdirSync(images);
    const names = Array.from({ length: 30 }, (_, i) => `img${String(i).padStart(2, '0')}.png`);
    for (const n of names) copyFileSync(IMAGE, join(images, n));
    copyFileSync(IMAGE, join(images, 'zz-broken.png'));
    truncateSync(join(images, 'zz-broken.png'), 600);
    const out = join(dir, 'out');
    const model = ['--rough', join(MODELS, 'cells-rough'), '--fine', join(MODELS, 'cells-fine')];

    // img00 first, alone, so that the worker set to pause on it takes it.
    const first = sts('queue', 'add', '--redis', url, ...model, '--out', out, join(images, 'img00.png'));
    assert.equal(first.status, 0, first.stderr);
    const pauseFile = join(dir, 'paused');
    startWorker(0, { STS_TEST_PAUSE: 'before-place', STS_TEST_PAUSE_NAME: 'img00', STS_TEST_PAUSE_FILE: pauseFile });
    await until('worker 0 to pause in the middle of img00', () => existsSync(pauseFile));
    const all = sts('queue', 'add', '--redis', url, ...model, '--out', out, images);
    assert.equal(all.status, 0, all.stderr);
    assert.match(all.stderr, /added 30 jobs \(1 already queued or done\)/);
    startWorker(1);
    startWorker(2);
    // The process that runs the jobs (sts reruns itself on jemalloc: the pid the worker reports, not the launcher's).
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
      const s = sts('queue', 'status', '--redis', url);
      return /0 waiting, 0 active, 0 retrying later, 30 done, 1 failed/.test(s.stdout) && s;
    }, 120_000);
    const status = sts('queue', 'status', '--redis', url).stdout;
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
    assert.equal(badTries, 3, 'tried 3 times, with backoff, then left failed');

    // One complete folder per image, nothing half-written, each equal to sts predict's.
    assert.deepEqual(readdirSync(out).sort(), names.map((n) => n.replace('.png', '')));
    const reference = join(dir, 'reference');
    const r = sts('predict', ...model, '--out', reference, images);
    assert.equal(r.status, 1, 'sts predict names the broken image too');
    for (const n of names.map((x) => x.replace('.png', ''))) {
      for (const file of ['mask.png', 'objects.csv']) {
        assert.ok(readFileSync(join(out, n, file)).equals(readFileSync(join(reference, n, file))), `${n}/${file} equals sts predict's`);
      }
    }

    // Adding the folder again adds nothing; retry-failed puts the bad image back; SIGTERM stops a worker cleanly.
    assert.match(sts('queue', 'add', '--redis', url, ...model, '--out', out, images).stderr, /added 0 jobs \(31 already queued or done\)/);
    writeFileSync(join(images, 'zz-broken.png'), readFileSync(IMAGE));
    assert.match(sts('queue', 'retry-failed', '--redis', url).stdout, /1 failed job back in the queue/);
    await until('the retried image', () => existsSync(join(out, 'zz-broken', 'summary.json')));
    for (const k of [1, 2]) workers[k].kill('SIGTERM');
    const codes = await Promise.all([1, 2].map((k) => new Promise<number | null>((res) => workers[k].on('exit', (c) => res(c)))));
    assert.deepEqual(codes, [0, 0]);
    assert.ok(lines(1, 'worker').length + lines(2, 'worker').length >= 2);
  });

  it('names an unreachable Redis at once, and a job whose image the worker cannot see fails with that path', async () => {
    const r = sts('queue', 'status', '--redis', 'redis://127.0.0.1:1');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^sts: error: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED 127\.0\.0\.1:1\); start redis-server there/m);
    const model = ['--rough', join(MODELS, 'cells-rough'), '--fine', join(MODELS, 'cells-fine')];
    const image = join(dir, 'gone.png');
    copyFileSync(IMAGE, image);
    assert.equal(sts('queue', 'add', '--redis', url, '--queue', 'q2', ...model, '--out', join(dir, 'out2'), image).status, 0);
    rm(image, { force: true });
    const w = spawn(process.execPath, [cli, 'queue', 'work', '--redis', url, '--queue', 'q2'], { env: { ...process.env, STS_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    w.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    workers.push(w);
    await until('the job to fail for good', () => (log.match(/^failed /gm) ?? []).length >= 3, 60_000);
    assert.match(log, /failed \w+ .*gone\.png: .*gone\.png/);
    w.kill('SIGTERM');
  });

  it("fails a job a worker cannot run as its producer meant (other options, another job format, a misfit pair) at once or by name, while others complete", async () => {
    const { Queue } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const { createModel } = await import('../../src/models/index.js');
    const { saveModel } = await import('../../src/engine/model-files.js');
    await import('../support/engine.js');
    const small = createModel({ name: 'unet', size: 32, channels: 3, features: 2 }, { seed: 3 });
    await saveModel(join(dir, 'fine-32'), small, {});
    small.dispose();
    const image = join(dir, 'ok.png');
    copyFileSync(IMAGE, image);
    const pair = { rough: join(MODELS, 'cells-rough'), fine: join(MODELS, 'cells-fine') };
    const options = { batch: 8, tiling: true, dropPolicy: 'reference', resize: 'nearest' };
    const out = join(dir, 'out3');
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    const queue = new Queue('q3', { connection });
    const add = (id: string, data: Record<string, unknown>) => queue.add('predict', { image, out, model: pair, options, format: 1, producer: '0.1.0', ...data }, { jobId: id, attempts: 3, backoff: { type: 'fixed', delay: 200 } });
    await add('good', {});
    await add('newer-options', { options: { ...options, tileSize: 512 }, producer: '0.2.0' });
    await add('newer-format', { format: 2, producer: '0.3.0' });
    await add('misfit-pair', { model: { rough: pair.rough, fine: join(dir, 'fine-32') } });
    const w = spawn(process.execPath, [cli, 'queue', 'work', '--redis', url, '--queue', 'q3'], { env: { ...process.env, STS_THREADS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    w.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    workers.push(w);
    after(async () => {
      await queue.close();
      connection.disconnect();
    });
    await until('all four jobs to end', async () => (await queue.getCompletedCount()) + (await queue.getFailedCount()) === 4, 90_000);
    const job = async (id: string) => (await queue.getJob(id))!;
    assert.equal(await (await job('good')).getState(), 'completed');
    assert.ok(existsSync(join(out, 'ok', 'summary.json')));
    const options_ = await job('newer-options');
    assert.match(options_.failedReason, /the job was made by sts 0\.2\.0 \(job format 1\) with options this worker does not take: unknown option 'tileSize'; run the same sts version for sts queue add and every sts queue work \(this worker: sts \d+\.\d+\.\d+, job format 1\)/);
    assert.equal(options_.attemptsMade, 1, 'not retried: a retry cannot mend it');
    const format = await job('newer-format');
    assert.match(format.failedReason, /the job was made by sts 0\.3\.0 \(job format 2\), which this worker does not read/);
    assert.equal(format.attemptsMade, 1);
    const misfit = await job('misfit-pair');
    assert.match(misfit.failedReason, /the rough model \(.*cells-rough\) takes 64 x 64 inputs but the fine model \(.*fine-32\) takes 32 x 32/);
    assert.equal(await misfit.getState(), 'failed');
    w.kill('SIGTERM');
  });
});
