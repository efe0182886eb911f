/**
 * What a queue job does, run by BullMQ as a sandboxed processor in a worker thread of `sts queue work` (one thread
 * per concurrent job, kept between jobs).
 *
 * Why a thread: the engine's passes over an image block the event loop they run on for seconds (a 6,144 x 6,144
 * PNG: 1.6 s at a time on this machine), and BullMQ renews a job's lock from the event loop. Run in the worker's
 * own thread, a long pass let the lock expire and a second worker ran the same image. Here the worker's main
 * thread does nothing but talk to Redis, so the lock is renewed on time for any image size. A thread rather than
 * a child process: it dies with the worker (a SIGKILLed worker cannot leave a process behind still running a job
 * that another worker has taken since), shares the worker's allocator, and needs no second copy of Node. The
 * engine and each model pair are loaded once per thread and kept for the jobs that follow.
 *
 * Every job is checked here before any pixel is read: its data (jobProblem), its paths against the worker's roots
 * (roots.ts), its image size against --max-pixels (the header only). A job that fails a check fails for good
 * (UnrecoverableError: no retries, the reason in `sts queue status`); other errors are retried with backoff.
 */
import { workerData } from 'node:worker_threads';
import { type SandboxedJob, UnrecoverableError } from 'bullmq';
import sharp from 'sharp';
import { type EngineInfo, initEngine } from '../engine/backend.js';
import { PixelCapError, checkPixelCap } from '../io/pixel-cap.js';
import { type Predictor, createPredictor } from '../pipeline/predictor.js';
import type { Progress } from '../types/progress.js';
import { type JobResult, type PredictJob, jobProblem } from './job.js';
import { JobRefused, type WorkerRoots, confineJob } from './roots.js';

/** What the worker process hands each of its job threads. */
export interface ProcessorContext {
  readonly roots: WorkerRoots;
  readonly maxPixels?: number;
  /** The worker's name in job results (its process id). */
  readonly worker: string;
  /** A BroadcastChannel on which the worker tells its idle job threads to end (when it stops without Redis). */
  readonly exitChannel: string;
}

const context = workerData as ProcessorContext;
const exitChannel = new BroadcastChannel(context.exitChannel);
exitChannel.unref();
exitChannel.onmessage = () => process.exit(0);
const predictors = new Map<string, Promise<Predictor>>();
let engine: Promise<EngineInfo> | undefined;

function engineReady(): Promise<EngineInfo> {
  // The worker started the engine once before taking jobs and said which (cli/commands/queue.ts): silent here.
  engine ??= initEngine({ warn: null }).then((info) => {
    // libvips follows the engine's thread budget and keeps no cache, as for sts predict.
    sharp.concurrency(info.threads);
    sharp.cache(false);
    return info;
  });
  // An engine that cannot start fails this job, and is tried again for the next one.
  engine.catch(() => (engine = undefined));
  return engine;
}

function predictorFor(job: PredictJob): Promise<Predictor> {
  const key = JSON.stringify([job.model, job.options]);
  let p = predictors.get(key);
  if (!p) {
    p = createPredictor(job.model, job.options);
    // A pair that cannot be loaded fails this job, and is tried again for the next one.
    p.catch(() => predictors.delete(key));
    predictors.set(key, p);
  }
  return p;
}

/** Checks that cannot pass on a retry, made before the models load or any pixel is read. */
async function checkJob(data: unknown): Promise<PredictJob> {
  const problem = jobProblem(data);
  if (problem) throw new UnrecoverableError(problem);
  const job = data as PredictJob;
  try {
    await confineJob(job, context.roots);
    if (context.maxPixels !== undefined) await checkPixelCap(job.image, context.maxPixels);
  } catch (error) {
    if (error instanceof JobRefused || error instanceof PixelCapError) throw new UnrecoverableError(error.message);
    throw error;
  }
  return job;
}

export default async function processPredictJob(job: SandboxedJob<unknown, JobResult>, _token?: string, signal?: AbortSignal): Promise<JobResult> {
  const data = await checkJob(job.data);
  await engineReady();
  const predictor = await predictorFor(data);
  let last = 0;
  const result = await predictor.predictFile(data.image, data.out, {
    signal,
    onProgress: (p: Progress) => {
      // Progress reaches Redis at most twice a second: a slide has thousands of batches.
      if (Date.now() - last < 500 && p.done < p.total) return;
      last = Date.now();
      void job.updateProgress({ ...p }).catch(() => {});
    },
  });
  return { dir: result.dir, skipped: result.skipped, ...(result.skipped ? {} : { objects: result.summary.objects }), worker: context.worker };
}
