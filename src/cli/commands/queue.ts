/**
 * `sts queue add | work | status | retry-failed`: a cohort over a BullMQ queue on Redis (src/queue/). `add` puts one
 * job per image (deduplicated), `work` runs a worker until SIGTERM / Ctrl-C (the current job finishes first), `status`
 * counts and lists failures, `retry-failed` puts failed jobs back.
 */
import { pairSourceOfOptions } from '../../catalog/catalog.js';
import { initEngine } from '../../engine/backend.js';
import { ensureWritableFolder } from '../../io/atomic-write.js';
import type { PredictionOptions } from '../../pipeline/predictor.js';
import { addJobs, queueStatus, retryFailed, work } from '../../queue/cohort-queue.js';
import { formatSeconds } from '../progress.js';
import { listInputs } from './predict.js';

export interface QueueTarget {
  readonly redis: string;
  readonly queue: string;
}

export async function runQueueAdd(inputs: string[], o: QueueTarget & PredictionOptions & { model?: string; rough?: string; fine?: string; out: string }, log = console.error): Promise<void> {
  const model = pairSourceOfOptions(o);
  const files = await listInputs(inputs, log);
  await ensureWritableFolder(o.out);
  const options: PredictionOptions = {
    batch: o.batch, tiling: o.tiling, dropPolicy: o.dropPolicy, resize: o.resize,
    ...(o.overlap !== undefined ? { overlap: o.overlap } : {}), ...(o.maxCrop !== undefined ? { maxCrop: o.maxCrop } : {}),
    ...(o.withinRough ? { withinRough: true } : {}), ...(o.roughOnlyUpTo !== undefined ? { roughOnlyUpTo: o.roughOnlyUpTo } : {}),
    ...(o.scale !== undefined ? { scale: o.scale } : {}),
  };
  const { added, known } = await addJobs(o.redis, o.queue, files.map((image) => ({ image, out: o.out, model, options })));
  log(`${o.queue} at ${o.redis}: added ${added} job${added === 1 ? '' : 's'}${known ? ` (${known} already queued or done)` : ''}`);
}

export async function runQueueWork(o: QueueTarget & { concurrency: number; lockDuration?: number; stalledInterval?: number }, signal: AbortSignal, log = console.error): Promise<void> {
  const engine = await initEngine({ warn: log });
  log(`engine: ${engine.backend}, ${engine.threads} threads, ${engine.malloc} malloc`);
  const stop = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  const done = await work(o.redis, o.queue, { concurrency: o.concurrency, lockDuration: o.lockDuration, stalledInterval: o.stalledInterval, log, stop });
  log(`worker stopped after ${done} job${done === 1 ? '' : 's'}`);
}

export async function runQueueStatus(o: QueueTarget, log = console.log): Promise<void> {
  const s = await queueStatus(o.redis, o.queue);
  const c = s.counts;
  log(`${o.queue} at ${o.redis}: ${c.waiting} waiting, ${c.active} active, ${c.delayed} retrying later, ${c.completed} done, ${c.failed} failed`);
  if (s.imagesPerSecond) log(`throughput ${s.imagesPerSecond.toFixed(3)} images/s over the last completed jobs; ETA ${formatSeconds(s.etaSeconds ?? 0)}`);
  for (const f of s.failed) log(`failed: ${f.image}: ${f.error}`);
}

export async function runQueueRetry(o: QueueTarget, log = console.log): Promise<void> {
  const n = await retryFailed(o.redis, o.queue);
  log(`${o.queue}: ${n} failed job${n === 1 ? '' : 's'} back in the queue`);
}
