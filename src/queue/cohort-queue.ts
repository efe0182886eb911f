/**
 * Cohorts on many machines: one BullMQ job per image on a Redis-backed queue, workers that load each model pair
 * once and run `sts predict`'s per-image code (pipeline/predictor.ts: atomic result folders, skip what is done).
 * BullMQ gives retries with backoff, stalled-job recovery and the dashboards people already use.
 *
 * A job is data that anyone who can write to Redis may have written, so a worker trusts none of it: the paths it
 * names must lie under the worker's roots (roots.ts), its image under --max-pixels, its data and options must be
 * what this version reads; a job that fails any of these, or whose record is not JSON at all, fails at once
 * (UnrecoverableError) with its reason, never retried and never left active.
 *
 * Locks: a job is held by its worker's lock, renewed every `lockDuration / 2` from the worker's event loop. The jobs
 * run in worker threads (predict-processor.ts, BullMQ's sandboxed processors), so that loop is never blocked by the
 * engine and a busy worker keeps its lock for any image size; a worker that dies (SIGKILL, a lost machine) takes its
 * threads with it, stops renewing, and within `lockDuration + stalledInterval` another worker's stalled check puts
 * the job back to wait. Completion is idempotent: the result folder is written atomically and a finished one is
 * skipped, so even a job run twice after a stall writes once.
 */
import { createHash, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Job, type JobJson, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ModelPairSource } from '../catalog/catalog.js';
import { JOB_FORMAT, type JobResult, type PredictJob, STS_VERSION, jobLabel } from './job.js';
import type { ProcessorContext } from './predict-processor.js';
import { type RedisTarget, connect, describeRedis, redactSecret } from './redis-connection.js';
import type { WorkerRoots } from './roots.js';

export { DEFAULT_REDIS } from './redis-connection.js';
export const DEFAULT_QUEUE = 'sts';

/** Retries with backoff, then the job stays failed with its error. */
export const JOB_ATTEMPTS = 3;
const JOB_OPTIONS = { attempts: JOB_ATTEMPTS, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false };

/** The compiled processor file BullMQ runs in each job thread. */
const PROCESSOR_FILE = fileURLToPath(new URL('./predict-processor.js', import.meta.url));

/** A job's paths made absolute, as the producer sees them: a worker in another working directory finds the same files. */
export function absoluteJob(job: PredictJob): PredictJob {
  const model: ModelPairSource = typeof job.model === 'string' ? job.model : { rough: resolve(job.model.rough), fine: resolve(job.model.fine) };
  return { ...job, image: resolve(job.image), out: resolve(job.out), model };
}

/** The job's id: the same image, output, models and options always give the same id, so adding twice adds once. */
export function jobId(job: PredictJob): string {
  const key = JSON.stringify({ image: resolve(job.image), out: resolve(job.out), model: job.model, options: job.options });
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

/** Adds one job per image (its paths made absolute); returns how many were new (the others were queued, or done, before). */
export async function addJobs(target: RedisTarget, queueName: string, jobs: readonly PredictJob[]): Promise<{ added: number; known: number }> {
  const connection = await connect(target);
  const queue = new Queue<PredictJob, JobResult>(queueName, { connection });
  try {
    let added = 0;
    for (const job of jobs.map(absoluteJob)) {
      const id = jobId(job);
      if (await queue.getJob(id).catch(() => true)) continue;
      await queue.add('predict', { ...job, format: JOB_FORMAT, producer: STS_VERSION }, { ...JOB_OPTIONS, jobId: id });
      added++;
    }
    return { added, known: jobs.length - added };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** The fields of a job's record that BullMQ reads as JSON. */
const JSON_FIELDS = ['data', 'opts', 'progress', 'parent'] as const;

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

function notJsonReason(fields: readonly string[]): string {
  return (
    `the job's ${fields.join(' and ')} ${fields.length === 1 ? 'is' : 'are'} not JSON (written into Redis by something other than sts queue add); ` +
    'it cannot be run: remove it, and add the image again with sts queue add'
  );
}

/**
 * BullMQ's worker, made safe against job records that are not JSON. BullMQ parses a job's fields when it takes the
 * job; a parse error there left the job active, locked and never run, and after each stall it was taken and lost
 * again, forever. Here a job whose data is not JSON gets BullMQ's own deferred failure (failed before it runs), and
 * one whose options (or progress) are not JSON is found by its lock token and failed directly. Jobs are taken only
 * through `moveToActive`, never as a by-product of finishing the previous one, so every take passes that check.
 */
class PredictWorker extends Worker<PredictJob, JobResult> {
  /** The jobs whose processor runs now (BullMQ's events also tell of other workers' stalled jobs). */
  readonly runningJobs = new Set<string>();

  constructor(
    name: string,
    processor: string,
    options: ConstructorParameters<typeof Worker<PredictJob, JobResult>>[2],
    private readonly redis: Redis,
  ) {
    super(name, processor, options);
  }

  protected override async callProcessJob(job: Job<PredictJob, JobResult>, token: string, signal?: AbortSignal): Promise<JobResult> {
    const id = job.id ?? token;
    this.runningJobs.add(id);
    try {
      return await super.callProcessJob(job, token, signal);
    } finally {
      this.runningJobs.delete(id);
    }
  }

  protected override createJob(json: JobJson, id: string): Job<PredictJob, JobResult> {
    try {
      return super.createJob(json, id);
    } catch {
      const job = super.createJob({ ...json, data: '{}' }, id);
      job.deferredFailure = notJsonReason(['data']);
      return job;
    }
  }

  protected override handleCompleted(result: JobResult, job: Job<PredictJob, JobResult>, token: string): Promise<Job<PredictJob, JobResult>> {
    return super.handleCompleted(result, job, token, () => false);
  }

  protected override handleFailed(error: Error, job: Job<PredictJob, JobResult>, token: string): Promise<Job<PredictJob, JobResult>> {
    return super.handleFailed(error, job, token, () => false);
  }

  protected override async moveToActive(token: string, name?: string): Promise<Job<PredictJob, JobResult>> {
    try {
      return await super.moveToActive(token, name);
    } catch (error) {
      if (!(error instanceof SyntaxError) || !(await this.failUnreadable(token))) throw error;
      return undefined as unknown as Job<PredictJob, JobResult>;
    }
  }

  /**
   * Stops without Redis. BullMQ's close() waits for Redis to answer (a command queued while ioredis reconnects is
   * never given up), so a worker told to stop while Redis is away stops here what close() would have: taking jobs
   * and the stalled checks (pause), lock renewal, the idle job threads (told through `threadsChannel`), and its
   * connections. Only for a worker with no job running.
   */
  async abandon(threadsChannel: string): Promise<void> {
    await this.pause(true);
    await this.lockManager.close();
    const channel = new BroadcastChannel(threadsChannel);
    channel.postMessage('exit');
    channel.close();
    void this.disconnect().catch(() => {});
  }

  /** Fails the job this worker just took under `token` whose record is not JSON; false when there is none. */
  private async failUnreadable(token: string): Promise<boolean> {
    for (const id of await this.redis.lrange(this.toKey('active'), 0, -1)) {
      if ((await this.redis.get(this.toKey(`${id}:lock`))) !== token) continue;
      const values = await this.redis.hmget(this.toKey(id), ...JSON_FIELDS);
      const fields = JSON_FIELDS.filter((_, i) => values[i] !== null && !isJson(values[i]!));
      const job = new this.Job<PredictJob, JobResult>(this, 'predict', {} as PredictJob, {}, id);
      const error = new UnrecoverableError(fields.length ? notJsonReason(fields) : 'the job\'s record cannot be read; remove it, and add the image again with sts queue add');
      await job.moveToFailed(error, token);
      this.emit('failed', job, error, 'active');
      return true;
    }
    return false;
  }
}

export interface WorkOptions {
  /** The folders jobs may read from and write to (roots.ts). */
  readonly roots: WorkerRoots;
  /** Images above this many pixels fail for good, from their header (default: no cap). */
  readonly maxPixels?: number;
  readonly concurrency?: number;
  /** ms a job's lock lasts without renewal (default 60 s). */
  readonly lockDuration?: number;
  /** ms between stalled-job checks (default 30 s). */
  readonly stalledInterval?: number;
  readonly log?: (line: string) => void;
  /** Resolves when the worker should stop taking jobs (SIGTERM): the current job finishes first. */
  readonly stop?: Promise<void>;
}

/** How long a stopping worker with no job running waits for an unreachable Redis before it leaves without it. */
const STOP_WITHOUT_REDIS_MS = 2000;

/** Runs a worker until `stop` resolves; returns how many jobs it completed. */
export async function work(target: RedisTarget, queueName: string, o: WorkOptions): Promise<number> {
  const log = o.log ?? (() => {});
  const connection = await connect(target);
  const name = `${process.pid}`;
  const context: ProcessorContext = { roots: o.roots, ...(o.maxPixels !== undefined ? { maxPixels: o.maxPixels } : {}), worker: name, exitChannel: `sts-queue-${randomUUID()}` };
  const worker = new PredictWorker(
    queueName,
    PROCESSOR_FILE,
    {
      connection,
      concurrency: o.concurrency ?? 1,
      lockDuration: o.lockDuration ?? 60_000,
      stalledInterval: o.stalledInterval ?? 30_000,
      maxStalledCount: 2,
      useWorkerThreads: true,
      workerThreadsOptions: { workerData: context },
    },
    connection,
  );
  let completed = 0;
  worker.on('active', (job) => {
    log(`started ${job.id} ${jobLabel(job.id, job.data)} (attempt ${job.attemptsMade + 1} of ${job.opts.attempts ?? 1})`);
  });
  worker.on('completed', (job, result) => {
    completed++;
    log(`completed ${job.id} ${jobLabel(job.id, job.data)} -> ${result.dir}${result.skipped ? ' (done before)' : ''}`);
  });
  worker.on('failed', (job, error) => log(`failed ${job?.id} ${jobLabel(job?.id, job?.data)}: ${error.message}`));
  // Redis going away makes BullMQ report the same error every second: each message is logged once until another comes.
  let lastError = '';
  worker.on('error', (error) => {
    const message = redactSecret(error.message, target);
    if (message !== lastError) log(`worker error: ${message}`);
    lastError = message;
  });
  await worker.waitUntilReady();
  log(`worker ${name} on ${queueName} at ${describeRedis(target)} (concurrency ${o.concurrency ?? 1}; inputs ${o.roots.inputs.map((r) => r.path).join(', ')}; models ${o.roots.models.map((r) => r.path).join(', ') || 'catalog pairs only'}; out ${o.roots.out.map((r) => r.path).join(', ')}${o.maxPixels !== undefined ? `; at most ${o.maxPixels} pixels an image` : ''})`);
  await (o.stop ?? new Promise(() => {}));
  log(worker.runningJobs.size ? 'stopping: finishing the current job' : 'stopping');
  // BullMQ's close waits for Redis to answer; with Redis gone and no job running there is nothing to wait for.
  const closed = worker.close();
  let unreachable = false;
  await Promise.race([
    closed,
    (async () => {
      for (let waited = 0; ; waited += 250) {
        await new Promise((r) => setTimeout(r, 250));
        if (worker.runningJobs.size === 0 && connection.status !== 'ready' && waited >= STOP_WITHOUT_REDIS_MS) return (unreachable = true);
      }
    })(),
  ]);
  if (unreachable) {
    log(`Redis at ${describeRedis(target)} does not answer: stopping without it (no job is running)`);
    await worker.abandon(context.exitChannel);
  }
  connection.disconnect();
  return completed;
}

export interface QueueStatus {
  readonly counts: Record<'waiting' | 'active' | 'completed' | 'failed' | 'delayed', number>;
  /** Images per second over the last completed jobs, when there are at least two. */
  readonly imagesPerSecond?: number;
  readonly etaSeconds?: number;
  /** The last 100 failed jobs: the image (or `job <id>` when the job's data names none) and why. */
  readonly failed: { image: string; error: string }[];
}

/**
 * The jobs of `state` (newest first, at most `count`), read field by field: one job whose record is not JSON must
 * not hide the others (BullMQ's getters parse every record and fail on the first such).
 */
async function jobFields(queue: Queue, connection: Redis, state: 'completed' | 'failed', count: number): Promise<{ id: string; data?: unknown; failedReason?: string; finishedOn?: number }[]> {
  const ids = await queue.getRanges([state], 0, count - 1, false);
  return Promise.all(
    ids.map(async (id) => {
      const [data, failedReason, finishedOn] = await connection.hmget(queue.toKey(id), 'data', 'failedReason', 'finishedOn');
      let parsed: unknown;
      try {
        parsed = data === null ? undefined : JSON.parse(data);
      } catch {
        parsed = undefined;
      }
      return { id, data: parsed, ...(failedReason !== null ? { failedReason } : {}), ...(finishedOn ? { finishedOn: Number(finishedOn) } : {}) };
    }),
  );
}

export async function queueStatus(target: RedisTarget, queueName: string): Promise<QueueStatus> {
  const connection = await connect(target);
  const queue = new Queue<PredictJob, JobResult>(queueName, { connection });
  try {
    const c = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children');
    const counts = { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0, delayed: c.delayed ?? 0 };
    const recent = (await jobFields(queue, connection, 'completed', 100)).map((j) => j.finishedOn ?? 0).filter((t) => t > 0).sort((a, b) => a - b);
    const span = recent.length >= 2 ? (recent[recent.length - 1] - recent[0]) / 1000 : 0;
    const imagesPerSecond = span > 0 ? (recent.length - 1) / span : undefined;
    const left = counts.waiting + counts.active + counts.delayed;
    const failed = (await jobFields(queue, connection, 'failed', 100)).map((j) => ({ image: jobLabel(j.id, j.data), error: j.failedReason ?? 'unknown error' }));
    return { counts, ...(imagesPerSecond ? { imagesPerSecond, etaSeconds: left / imagesPerSecond } : {}), failed };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/**
 * Puts every failed job back to wait with its attempts counted from zero again; returns how many, and the ids of
 * failed jobs whose record is not JSON (left failed: they would only fail again).
 */
export async function retryFailed(target: RedisTarget, queueName: string): Promise<{ retried: number; unreadable: string[] }> {
  const connection = await connect(target);
  const queue = new Queue<PredictJob, JobResult>(queueName, { connection });
  try {
    let retried = 0;
    const unreadable: string[] = [];
    for (const id of await queue.getRanges(['failed'], 0, -1, true)) {
      const job = await queue.getJob(id).catch((error: Error) => {
        if (error instanceof SyntaxError) return unreadable.push(id), undefined;
        throw error;
      });
      if (!job) continue;
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      retried++;
    }
    return { retried, unreadable };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
