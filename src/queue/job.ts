/**
 * A queue job: what it carries and whether this worker can run it as its producer meant. Shared by the worker
 * process (cohort-queue.ts) and the thread that runs the jobs (predict-processor.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelPairSource } from '../catalog/catalog.js';
import { packageRoot } from '../paths.js';
import { type PredictionOptions, predictionOptionsProblem } from '../pipeline/predictor.js';

/**
 * What a job carries: everything a worker on another machine needs (absolute paths, as the workers see them), and
 * what made it: the job format and the producer's sts version, so that a worker of another version names the
 * mismatch instead of running other options than were asked for.
 */
export interface PredictJob {
  readonly image: string;
  readonly out: string;
  readonly model: ModelPairSource;
  readonly options: PredictionOptions;
  readonly format?: number;
  readonly producer?: string;
}

export interface JobResult {
  readonly dir: string;
  readonly skipped: boolean;
  readonly objects?: number;
  readonly worker: string;
}

/** The layout of a job's data; a worker takes only jobs of its own format. */
export const JOB_FORMAT = 1;

/** This installation's sts version, as jobs record it. */
export const STS_VERSION = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Why this worker cannot run `job` as its producer meant it, or nothing. Not something a retry mends: the job fails
 * at once (BullMQ's UnrecoverableError) with this text. `job` is whatever JSON was in Redis, not trusted to be a
 * PredictJob.
 */
export function jobProblem(job: unknown): string | undefined {
  if (typeof job !== 'object' || job === null || Array.isArray(job)) {
    return `the job's data is ${JSON.stringify(job)?.slice(0, 80)}, not an object with image, out, model and options; add the job again with sts queue add`;
  }
  const j = job as Partial<Record<keyof PredictJob, unknown>>;
  const made = `made by sts ${typeof j.producer === 'string' ? j.producer : 'of an unknown version'} (job format ${typeof j.format === 'number' ? j.format : 'none'})`;
  const remedy = `run the same sts version for sts queue add and every sts queue work (this worker: sts ${STS_VERSION}, job format ${JOB_FORMAT})`;
  if (j.format !== JOB_FORMAT) return `the job was ${made}, which this worker does not read; ${remedy}`;
  if (typeof j.image !== 'string' || typeof j.out !== 'string') return `the job has no image or output path; ${remedy}`;
  const model = j.model;
  const pairOk = typeof model === 'string' || (typeof model === 'object' && model !== null && typeof (model as { rough?: unknown }).rough === 'string' && typeof (model as { fine?: unknown }).fine === 'string');
  if (!pairOk) return `the job's model is ${JSON.stringify(model)}, neither a catalog name nor {rough, fine} paths; ${remedy}`;
  const problem = predictionOptionsProblem(j.options);
  return problem ? `the job was ${made} with options this worker does not take: ${problem}; ${remedy}` : undefined;
}

/** The image a job names, for log and status lines; `job <id>` when its data has none. */
export function jobLabel(id: string | undefined, data: unknown): string {
  const image = typeof data === 'object' && data !== null ? (data as { image?: unknown }).image : undefined;
  return typeof image === 'string' ? image : `job ${id ?? '?'}`;
}
