/**
 * `sts queue add | work | status | retry-failed`: a cohort over a BullMQ queue on Redis (src/queue/). `add` puts one
 * job per image (deduplicated, paths made absolute), `work` runs a worker confined to its roots until SIGTERM /
 * Ctrl-C (the current job finishes first), `status` counts and lists failures, `retry-failed` puts failed jobs back.
 */
import { pairSourceOfOptions } from '../../catalog/catalog.js';
import { initEngine } from '../../engine/backend.js';
import { ensureWritableFolder } from '../../io/atomic-write.js';
import type { PredictionOptions } from '../../pipeline/predictor.js';
import { addJobs, queueStatus, retryFailed, work } from '../../queue/cohort-queue.js';
import { REDIS_PASSWORD_ENV, type RedisTarget, describeRedis, redisTarget } from '../../queue/redis-connection.js';
import { resolveRoots } from '../../queue/roots.js';
import { formatSeconds } from '../progress.js';
import { listInputs } from './predict.js';

export interface QueueTarget {
  /** --redis: redis[s]://[user[:password]@]host[:port][/db] */
  readonly redis: string;
  readonly redisPasswordFile?: string;
  readonly queue: string;
}

/** The server the options name; a password typed in the URL works, with a word on where it is safer. */
async function targetOf(o: QueueTarget, log: (line: string) => void): Promise<RedisTarget> {
  const target = await redisTarget(o);
  if (target.password !== undefined && new URL(o.redis).password) {
    log(`note: the password in --redis is visible to every user of this machine (ps); give it with --redis-password-file <file> or ${REDIS_PASSWORD_ENV} instead`);
  }
  return target;
}

export async function runQueueAdd(inputs: string[], o: QueueTarget & PredictionOptions & { model?: string; rough?: string; fine?: string; out: string }, log = console.error): Promise<void> {
  const model = pairSourceOfOptions(o);
  const target = await targetOf(o, log);
  const files = await listInputs(inputs, log);
  await ensureWritableFolder(o.out);
  const options: PredictionOptions = {
    batch: o.batch, tiling: o.tiling, dropPolicy: o.dropPolicy, resize: o.resize,
    ...(o.overlap !== undefined ? { overlap: o.overlap } : {}), ...(o.maxCrop !== undefined ? { maxCrop: o.maxCrop } : {}), ...(o.growCrops ? { growCrops: o.growCrops } : {}),
    ...(o.withinRough ? { withinRough: true } : {}), ...(o.roughOnlyUpTo !== undefined ? { roughOnlyUpTo: o.roughOnlyUpTo } : {}),
    ...(o.scale !== undefined ? { scale: o.scale } : {}), ...(o.minSize !== undefined ? { minSize: o.minSize } : {}),
  };
  // addJobs makes every path absolute: a worker started in another folder finds the same files.
  const { added, known } = await addJobs(target, o.queue, files.map((image) => ({ image, out: o.out, model, options })));
  log(`${o.queue} at ${describeRedis(target)}: added ${added} job${added === 1 ? '' : 's'}${known ? ` (${known} already queued or done)` : ''}`);
}

export interface QueueWorkOptions extends QueueTarget {
  readonly concurrency: number;
  readonly lockDuration?: number;
  readonly stalledInterval?: number;
  readonly inputs?: string[];
  readonly models?: string[];
  readonly out?: string[];
  readonly maxPixels?: number;
}

export async function runQueueWork(o: QueueWorkOptions, signal: AbortSignal, log = console.error): Promise<void> {
  // Listened for from the start: a SIGTERM while the engine starts stops the worker as soon as it is up.
  const stop = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  const roots = await resolveRoots(o);
  const target = await targetOf(o, log);
  // The jobs run in threads that start the engine again; starting it here first names a worker that could not
  // compute before it takes (and fails) a single job.
  const engine = await initEngine({ warn: log });
  log(`engine: ${engine.backend}, ${engine.threads} threads, ${engine.malloc} malloc`);
  const done = await work(target, o.queue, { roots, maxPixels: o.maxPixels, concurrency: o.concurrency, lockDuration: o.lockDuration, stalledInterval: o.stalledInterval, log, stop });
  log(`worker stopped after ${done} job${done === 1 ? '' : 's'}`);
}

export async function runQueueStatus(o: QueueTarget, log = console.log, warn = console.error): Promise<void> {
  const target = await targetOf(o, warn);
  const s = await queueStatus(target, o.queue);
  const c = s.counts;
  log(`${o.queue} at ${describeRedis(target)}: ${c.waiting} waiting, ${c.active} active, ${c.delayed} retrying later, ${c.completed} done, ${c.failed} failed`);
  if (s.imagesPerSecond) log(`throughput ${s.imagesPerSecond.toFixed(3)} images/s over the last completed jobs; ETA ${formatSeconds(s.etaSeconds ?? 0)}`);
  for (const f of s.failed) log(`failed: ${f.image}: ${f.error}`);
}

export async function runQueueRetry(o: QueueTarget, log = console.log, warn = console.error): Promise<void> {
  const { retried, unreadable } = await retryFailed(await targetOf(o, warn), o.queue);
  log(`${o.queue}: ${retried} failed job${retried === 1 ? '' : 's'} back in the queue`);
  if (unreadable.length) log(`${o.queue}: ${unreadable.length} failed job${unreadable.length === 1 ? '' : 's'} left failed: ${unreadable.length === 1 ? 'its record is' : 'their records are'} not JSON (${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? ', ...' : ''}); add those images again with sts queue add`);
}
