/**
 * Cohorts on many machines: one BullMQ job per image on a Redis-backed queue, workers that load each model pair
 * once and run `sts predict`'s per-image code (pipeline/predictor.ts: atomic result folders, skip what is done).
 * BullMQ gives retries with backoff, stalled-job recovery and the dashboards people already use.
 *
 * Locks: a job is held by its worker's lock, renewed every `lockDuration / 2`. The engine blocks the event loop
 * only for one network call at a time (well under a second here), so a busy worker keeps renewing and is never
 * declared stalled; a worker that dies (SIGKILL, a lost machine) stops renewing, and within `lockDuration +
 * stalledInterval` another worker's stalled check puts the job back to wait. Completion is idempotent: the result
 * folder is written atomically and a finished one is skipped, so even a job run twice after a stall writes once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { ModelPairSource } from '../catalog/catalog.js';
import { StsError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { type PredictionOptions, type Predictor, createPredictor, predictionOptionsProblem } from '../pipeline/predictor.js';
import type { Progress } from '../types/progress.js';

export const DEFAULT_REDIS = 'redis://127.0.0.1:6379';
export const DEFAULT_QUEUE = 'sts';

/**
 * What a job carries: everything a worker on another machine needs (paths as the workers see them), and what made
 * it: the job format and the producer's sts version, so that a worker of another version names the mismatch
 * instead of running other options than were asked for.
 */
export interface PredictJob {
  readonly image: string;
  readonly out: string;
  readonly model: ModelPairSource;
  readonly options: PredictionOptions;
  readonly format?: number;
  readonly producer?: string;
}

/** The layout of a job's data; a worker takes only jobs of its own format. */
export const JOB_FORMAT = 1;

/** This installation's sts version, as jobs record it. */
export const STS_VERSION = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Why this worker cannot run `job` as its producer meant it, or nothing. Not something a retry mends: the job fails
 * at once (BullMQ's UnrecoverableError) with this text.
 */
export function jobProblem(job: PredictJob): string | undefined {
  const made = `made by sts ${job.producer ?? 'of an unknown version'} (job format ${job.format ?? 'none'})`;
  const remedy = `run the same sts version for sts queue add and every sts queue work (this worker: sts ${STS_VERSION}, job format ${JOB_FORMAT})`;
  if (job.format !== JOB_FORMAT) return `the job was ${made}, which this worker does not read; ${remedy}`;
  if (typeof job.image !== 'string' || typeof job.out !== 'string') return `the job has no image or output path; ${remedy}`;
  const model = job.model as unknown;
  const pairOk = typeof model === 'string' || (typeof model === 'object' && model !== null && typeof (model as { rough?: unknown }).rough === 'string' && typeof (model as { fine?: unknown }).fine === 'string');
  if (!pairOk) return `the job's model is ${JSON.stringify(model)}, neither a catalog name nor {rough, fine} paths; ${remedy}`;
  const problem = predictionOptionsProblem(job.options);
  return problem ? `the job was ${made} with options this worker does not take: ${problem}; ${remedy}` : undefined;
}

export interface JobResult {
  readonly dir: string;
  readonly skipped: boolean;
  readonly objects?: number;
  readonly worker: string;
}

/** Retries with backoff, then the job stays failed with its error. */
export const JOB_ATTEMPTS = 3;
const JOB_OPTIONS = { attempts: JOB_ATTEMPTS, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false };

/** A connection for BullMQ (which needs maxRetriesPerRequest: null), after checking that Redis answers. */
export async function connect(url: string): Promise<Redis> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis reports the cause (ECONNREFUSED, ENOTFOUND) as an event and rejects with a generic error after it.
  let cause: Error | undefined;
  probe.on('error', (error: Error) => (cause ??= error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new StsError(`cannot reach Redis at ${url} (${(cause ?? (error as Error)).message}); start redis-server there, or give the right address with --redis`);
  } finally {
    probe.disconnect();
  }
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  connection.on('error', () => {});
  return connection;
}

/** The job's id: the same image, output, models and options always give the same id, so adding twice adds once. */
export function jobId(job: PredictJob): string {
  const key = JSON.stringify({ image: resolve(job.image), out: resolve(job.out), model: job.model, options: job.options });
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

/** Adds one job per image; returns how many were new (the others were queued, or done, before). */
export async function addJobs(url: string, queueName: string, jobs: readonly PredictJob[]): Promise<{ added: number; known: number }> {
  const connection = await connect(url);
  const queue = new Queue<PredictJob, JobResult>(queueName, { connection });
  try {
    let added = 0;
    for (const job of jobs) {
      const id = jobId(job);
      if (await queue.getJob(id)) continue;
      await queue.add('predict', { ...job, format: JOB_FORMAT, producer: STS_VERSION }, { ...JOB_OPTIONS, jobId: id });
      added++;
    }
    return { added, known: jobs.length - added };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

export interface WorkOptions {
  readonly concurrency?: number;
  /** ms a job's lock lasts without renewal (default 60 s). */
  readonly lockDuration?: number;
  /** ms between stalled-job checks (default 30 s). */
  readonly stalledInterval?: number;
  readonly log?: (line: string) => void;
  /** Resolves when the worker should stop taking jobs (SIGTERM): the current job finishes first. */
  readonly stop?: Promise<void>;
}

/** Runs a worker until `stop` resolves; returns how many jobs it completed. */
export async function work(url: string, queueName: string, o: WorkOptions = {}): Promise<number> {
  const log = o.log ?? (() => {});
  const connection = await connect(url);
  const predictors = new Map<string, Promise<Predictor>>();
  const name = `${process.pid}`;
  let completed = 0;
  const predictorFor = (job: PredictJob) => {
    const key = JSON.stringify([job.model, job.options]);
    let p = predictors.get(key);
    if (!p) {
      p = createPredictor(job.model, job.options);
      // A pair that cannot be loaded fails this job, and is tried again for the next one.
      p.catch(() => predictors.delete(key));
      predictors.set(key, p);
    }
    return p;
  };
  const worker = new Worker<PredictJob, JobResult>(
    queueName,
    async (job: Job<PredictJob, JobResult>) => {
      log(`started ${job.id} ${job.data.image} (attempt ${job.attemptsMade + 1} of ${JOB_ATTEMPTS})`);
      const problem = jobProblem(job.data);
      if (problem) throw new UnrecoverableError(problem);
      const predictor = await predictorFor(job.data);
      let last = 0;
      const result = await predictor.predictFile(job.data.image, job.data.out, {
        onProgress: (p: Progress) => {
          // Progress reaches Redis at most twice a second: a slide has thousands of batches.
          if (Date.now() - last < 500 && p.done < p.total) return;
          last = Date.now();
          void job.updateProgress({ ...p }).catch(() => {});
        },
      });
      return { dir: result.dir, skipped: result.skipped, ...(result.skipped ? {} : { objects: result.summary.objects }), worker: name };
    },
    { connection, concurrency: o.concurrency ?? 1, lockDuration: o.lockDuration ?? 60_000, stalledInterval: o.stalledInterval ?? 30_000, maxStalledCount: 2 },
  );
  worker.on('completed', (job, result) => {
    completed++;
    log(`completed ${job.id} ${job.data.image} -> ${result.dir}${result.skipped ? ' (done before)' : ''}`);
  });
  worker.on('failed', (job, error) => log(`failed ${job?.id} ${job?.data.image}: ${error.message}`));
  worker.on('error', (error) => log(`worker error: ${error.message}`));
  await worker.waitUntilReady();
  log(`worker ${name} on ${queueName} at ${url} (concurrency ${o.concurrency ?? 1})`);
  await (o.stop ?? new Promise(() => {}));
  log('stopping: finishing the current job');
  await worker.close();
  for (const p of predictors.values()) (await p.catch(() => undefined))?.dispose();
  connection.disconnect();
  return completed;
}

export interface QueueStatus {
  readonly counts: Record<'waiting' | 'active' | 'completed' | 'failed' | 'delayed', number>;
  /** Images per second over the last completed jobs, when there are at least two. */
  readonly imagesPerSecond?: number;
  readonly etaSeconds?: number;
  readonly failed: { image: string; error: string }[];
}

export async function queueStatus(url: string, queueName: string): Promise<QueueStatus> {
  const connection = await connect(url);
  const queue = new Queue<PredictJob, JobResult>(queueName, { connection });
  try {
    const c = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children');
    const counts = { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0, delayed: c.delayed ?? 0 };
    const recent = (await queue.getCompleted(0, 99)).map((j) => j.finishedOn ?? 0).filter((t) => t > 0).sort((a, b) => a - b);
    const span = recent.length >= 2 ? (recent[recent.length - 1] - recent[0]) / 1000 : 0;
    const imagesPerSecond = span > 0 ? (recent.length - 1) / span : undefined;
    const left = counts.waiting + counts.active + counts.delayed;
    const failed = (await queue.getFailed(0, 99)).map((j) => ({ image: j.data.image, error: j.failedReason ?? 'unknown error' }));
    return { counts, ...(imagesPerSecond ? { imagesPerSecond, etaSeconds: left / imagesPerSecond } : {}), failed };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** Puts every failed job back to wait (attempts start again); returns how many. */
export async function retryFailed(url: string, queueName: string): Promise<number> {
  const connection = await connect(url);
  const queue = new Queue<PredictJob, JobResult>(queueName, { connection });
  try {
    const failed = await queue.getFailed(0, -1);
    for (const job of failed) await job.retry('failed');
    return failed.length;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
