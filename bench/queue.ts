/**
 * `npm run bench:queue`: the cohort queue against `sts predict` on the same images, side by side in one run.
 *
 * - its own redis-server on 127.0.0.1 (a free port), stopped at the end;
 * - images: the first --images (default 40) of the nuclei pair's held-out test split (../shared/data/dsb2018), or
 *   copies of the test fixture under other names when that is not here; models: --model (default the catalog's
 *   nuclei pair);
 * - `sts predict` on all of them (1 thread): the time from its engine being ready to its exit;
 * - 1 worker, then 2 workers, of 1 thread each (STS_THREADS=1), started and ready before the jobs are added: the
 *   time from adding the jobs to the last completion; images per second, and the overhead per job against predict;
 * - 2 workers with one SIGKILLed in the middle of a job, at the default lock settings (what a user gets): the time
 *   from the kill to the job's next start on the other worker.
 * Every run checks that each image has exactly one complete result folder (lost) and that no job completed twice
 * (duplicated). Writes bench/results/queue.json as {workers, images, images_per_s, overhead_ms_per_job, recovery_s,
 * lost, duplicated} rows. Run it on a quiet machine: the 2-worker row needs both cores.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const cli = join(root, 'dist/src/cli/main.js');
const argv = process.argv.slice(2);
const opt = (name: string, def: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);
const env = { ...process.env, STS_THREADS: '1' };

interface Row {
  workers: number;
  images: number;
  images_per_s: number;
  overhead_ms_per_job: number | null;
  recovery_s: number | null;
  lost: number;
  duplicated: number;
  wall_s: number;
  killed?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`bench:queue: timed out waiting for ${what}`);
    await sleep(50);
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

function images(dir: string, n: number): string[] {
  const split = join(root, 'models/nuclei/split.json');
  const data = resolve(root, '../shared/data/dsb2018/images');
  const folder = join(dir, 'images');
  mkdirSync(folder);
  if (existsSync(split) && existsSync(data)) {
    const ids = (JSON.parse(readFileSync(split, 'utf8')) as { test: string[] }).test.slice(0, n);
    for (const id of ids) copyFileSync(join(data, `${id}.png`), join(folder, `${id}.png`));
    console.error(`[bench] ${ids.length} held-out DSB2018 test images`);
  } else {
    for (let i = 0; i < n; i++) copyFileSync(join(root, 'test/fixtures/web/dsb2018-00071198.png'), join(folder, `img${String(i).padStart(3, '0')}.png`));
    console.error(`[bench] ../shared is not here: ${n} copies of the test fixture image`);
  }
  return readdirSync(folder).map((f) => join(folder, f));
}

/** A worker process and its log lines (with the time each arrived). */
interface WorkerProcess {
  child: ChildProcess;
  lines: { t: number; text: string }[];
}

/** A worker on `queue`, reading images only from `inputs` and writing only under `out` (its roots). */
function startWorker(url: string, queue: string, inputs: string, out: string): WorkerProcess {
  const child = spawn(process.execPath, [cli, 'queue', 'work', '--redis', url, '--queue', queue, '--inputs', inputs, '--out', out], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const w: WorkerProcess = { child, lines: [] };
  let buffer = '';
  child.stderr!.on('data', (d: Buffer) => {
    buffer += d.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const text of parts) w.lines.push({ t: performance.now(), text });
  });
  return w;
}

const linesOf = (ws: WorkerProcess[], kind: string) => ws.flatMap((w) => w.lines.filter((l) => l.text.startsWith(`${kind} `)));

function checkResults(out: string, inputs: string[], ws: WorkerProcess[]): { lost: number; duplicated: number } {
  const folders = existsSync(out) ? readdirSync(out) : [];
  const complete = new Set(folders.filter((f) => existsSync(join(out, f, 'summary.json'))));
  const lost = inputs.filter((f) => !complete.has(f.split('/').pop()!.replace(/\.png$/, ''))).length;
  const completed = linesOf(ws, 'completed').map((l) => l.text.split(' ')[1]);
  const duplicated = completed.length - new Set(completed).size;
  return { lost, duplicated: duplicated + Math.max(0, folders.length - inputs.length) };
}

async function queueRun(url: string, name: string, inputs: string[], out: string, model: string[], workers: number, kill: boolean): Promise<{ wall: number; recovery: number | null; lost: number; duplicated: number }> {
  mkdirSync(out, { recursive: true });
  const ws = Array.from({ length: workers }, () => startWorker(url, name, dirname(inputs[0]), out));
  await waitFor('the workers to be ready', () => ws.every((w) => w.lines.some((l) => l.text.startsWith('worker '))), 120_000);
  const t0 = performance.now();
  const add = spawnSync(process.execPath, [cli, 'queue', 'add', '--redis', url, '--queue', name, ...model, '--out', out, ...inputs], { env, encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`sts queue add failed: ${add.stderr}`);
  let recovery: number | null = null;
  if (kill) {
    // The victim is killed in the middle of a job: one it has started (its models loaded: not its first), has not
    // finished, and has been on for 300 ms (log lines can arrive together, so a bare 'started' is not enough).
    const victim = ws[0];
    const pick = () => {
      const done = new Set(linesOf([victim], 'completed').map((l) => l.text.split(' ')[1]));
      const started = linesOf([victim], 'started');
      const last = started[started.length - 1];
      return started.length >= 2 && !done.has(last.text.split(' ')[1]) && performance.now() - last.t > 300 ? last : undefined;
    };
    const second = await waitFor("worker 0 in the middle of a job", pick, 300_000);
    const jobId = second.text.split(' ')[1];
    // A machine that dies takes the whole worker with it: the process that runs the jobs (sts reruns itself on
    // jemalloc; its pid is the one the worker reports) and its launcher. Killing the launcher alone is not that:
    // the orphaned worker notices and stops as on SIGTERM, finishing its job first.
    const pid = Number(/^worker (\d+) on /.exec(victim.lines.find((l) => l.text.startsWith('worker '))?.text ?? '')?.[1]);
    if (pid > 0 && pid !== victim.child.pid) process.kill(pid, 'SIGKILL');
    victim.child.kill('SIGKILL');
    const killedAt = performance.now();
    const { Queue } = await import('bullmq');
    const queue = new Queue(name, { connection: { url } });
    const state = await (await queue.getJob(jobId))?.getState();
    if (state !== 'active') throw new Error(`job ${jobId} was ${state} when its worker was killed, not active; run the benchmark again`);
    const watch = setInterval(() => {
      void queue.getJob(jobId).then(async (j) => console.error(`[bench]   ${((performance.now() - killedAt) / 1000).toFixed(0)} s after the kill: job ${await j?.getState()}, attempts ${j?.attemptsMade}, stalled ${JSON.stringify(j?.stalledCounter)}`));
    }, 15_000);
    const again = await waitFor(`job ${jobId} to run again`, () => ws[1].lines.find((l) => l.text.startsWith(`started ${jobId} `)), 300_000).finally(() => {
      clearInterval(watch);
      void queue.close();
    });
    recovery = (again.t - killedAt) / 1000;
    console.error(`[bench] SIGKILL -> job running again on the other worker: ${recovery.toFixed(1)} s`);
  }
  const alive = kill ? ws.slice(1) : ws;
  await waitFor('every job to complete', () => new Set(linesOf(ws, 'completed').map((l) => l.text.split(' ')[1])).size >= inputs.length, 1_800_000);
  const wall = (Math.max(...linesOf(ws, 'completed').map((l) => l.t)) - t0) / 1000;
  for (const w of alive) w.child.kill('SIGTERM');
  await Promise.all(alive.map((w) => new Promise((r) => (w.child.exitCode !== null ? r(null) : w.child.once('exit', r)))));
  return { wall, recovery, ...checkResults(out, inputs, ws) };
}

async function main() {
  const n = Number(opt('images', '40'));
  const modelName = opt('model', 'nuclei');
  const model = ['--model', modelName];
  const dir = mkdtempSync(join(tmpdir(), 'sts-bench-queue-'));
  const inputs = images(dir, n);
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const rows: Row[] = [];
  let predictRate = 0;
  try {
    await waitFor('redis-server', () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG', 15_000);

    // sts predict: from its engine being ready (the models load after) to its exit, so that process start-up and
    // engine start are left out, as they are for the workers (started before the jobs are added).
    console.error(`[bench] sts predict on ${inputs.length} images, 1 thread ...`);
    const predictStart = await new Promise<number>((res, rej) => {
      const p = spawn(process.execPath, [cli, 'predict', ...model, '--out', join(dir, 'predict'), ...inputs], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let ready = 0;
      p.stderr!.on('data', (d: Buffer) => {
        if (!ready && d.toString().includes('engine:')) ready = performance.now();
      });
      p.on('exit', (code) => (code === 0 ? res((performance.now() - ready) / 1000) : rej(new Error(`sts predict exited ${code}`))));
    });
    const predictPerImage = predictStart / inputs.length;
    predictRate = inputs.length / predictStart;
    console.error(`[bench] predict: ${predictStart.toFixed(1)} s, ${predictRate.toFixed(3)} images/s`);

    const runs = argv.includes('--kill-only') ? ([[2, true]] as const) : ([[1, false], [2, false], [2, true]] as const);
    for (const [workers, kill] of runs) {
      const name = `bench-${workers}-${kill ? 'kill' : 'plain'}`;
      console.error(`[bench] ${workers} worker${workers > 1 ? 's' : ''}${kill ? ', one SIGKILLed mid-job (default lock 60 s, stalled check 30 s)' : ''} ...`);
      const r = await queueRun(url, name, inputs, join(dir, name), model, workers, kill);
      const row: Row = {
        workers,
        images: inputs.length,
        images_per_s: +(inputs.length / r.wall).toFixed(3),
        overhead_ms_per_job: kill ? null : +(((r.wall / inputs.length) * workers - predictPerImage) * 1000).toFixed(0),
        recovery_s: r.recovery === null ? null : +r.recovery.toFixed(1),
        lost: r.lost,
        duplicated: r.duplicated,
        wall_s: +r.wall.toFixed(1),
        ...(kill ? { killed: true } : {}),
      };
      console.error(`[bench] ${JSON.stringify(row)}`);
      rows.push(row);
    }
  } finally {
    redis.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  const one = rows.find((r) => r.workers === 1);
  const two = rows.find((r) => r.workers === 2 && !r.killed);
  const speedup = one && two ? two.images_per_s / one.images_per_s : NaN;
  console.log(`sts predict (1 thread): ${predictRate.toFixed(3)} images/s`);
  console.log('workers  images  images/s  overhead ms/job  recovery s  lost  duplicated');
  for (const r of rows) console.log(`${String(r.workers).padEnd(8)} ${String(r.images).padEnd(7)} ${String(r.images_per_s).padEnd(9)} ${String(r.overhead_ms_per_job ?? '-').padEnd(16)} ${String(r.recovery_s ?? '-').padEnd(11)} ${String(r.lost).padEnd(5)} ${r.duplicated}`);
  console.log(`2 workers vs 1: ${speedup.toFixed(2)}x (target >= 1.7x)`);
  if (argv.includes('--kill-only') || argv.includes('--images')) {
    console.log('a partial run (--kill-only or --images): bench/results/queue.json left as it was');
    return;
  }
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/queue.json'), `${JSON.stringify({ date: new Date().toISOString(), model: modelName, threads_per_worker: 1, predict_images_per_s: +predictRate.toFixed(3), speedup_2_vs_1: +speedup.toFixed(2), rows }, null, 2)}\n`);
  console.log('wrote bench/results/queue.json');
}

main().catch((error) => {
  console.error(`bench:queue: ${(error as Error).message}`);
  process.exit(1);
});
