/**
 * The values of a prediction run that size its allocations, checked against the loaded model pair before any image
 * is read: `--batch`, `--overlap` and `--scale` (from the command line or a queue job) and the training scale the
 * rough model records. Each used to fail once per image, after the models had loaded, with a bare "Invalid typed
 * array length" (or, for `--overlap` = S, an endless tiling loop); each is now named at once with what to give.
 * What depends on the image (the rough pass's size) is checked per image in streaming-sts.ts. Pure.
 */
import { ArgumentError, StsError } from '../errors.js';
import { MIN_ROUGH_SCALE, roughScaleProblem, scaleOfMetadata } from '../types/training-scale.js';

/** Network inputs per call: beyond this a batch is memory, not speed (32 is about 14% faster than 8). */
export const MAX_BATCH = 1024;
/** One call's input batch (batch x S x S x channels float32) at most. */
export const MAX_BATCH_BYTES = 2 * 2 ** 30;

export interface LimitedOptions {
  readonly batch: number;
  readonly overlap?: number;
  readonly scale?: number;
  readonly tiling?: boolean;
}

export interface LimitedPair {
  readonly size: number;
  readonly channels: number;
  readonly rough: { readonly path: string; readonly metadata: Record<string, unknown> };
}

/** What is wrong with these options for this pair, as the error to throw; undefined when they fit. */
export function predictionLimitsProblem(o: LimitedOptions, pair: LimitedPair): StsError | undefined {
  const S = pair.size;
  if (!(Number.isSafeInteger(o.batch) && o.batch > 0 && o.batch <= MAX_BATCH)) {
    return new ArgumentError('--batch', `must be a whole number from 1 to ${MAX_BATCH}, got ${o.batch}`);
  }
  const batchBytes = o.batch * S * S * pair.channels * 4;
  if (batchBytes > MAX_BATCH_BYTES) {
    const most = Math.floor(MAX_BATCH_BYTES / (S * S * pair.channels * 4));
    return new ArgumentError('--batch', `${o.batch} inputs of ${S} x ${S} x ${pair.channels} make ${(batchBytes / 1e9).toFixed(1)} GB per network call at S = ${S}; give at most ${most}`);
  }
  if (o.overlap !== undefined && !(Number.isInteger(o.overlap) && o.overlap >= 0 && o.overlap < S)) {
    return new ArgumentError(
      '--overlap',
      `${o.overlap} must be a whole number below S = ${S}, the models' input side (rough tiles step by S - overlap); give 0 to ${S - 1}, or leave it out for S / 4 = ${Math.floor(S / 4)}`,
    );
  }
  if (o.tiling === false) return undefined;
  if (o.scale !== undefined) {
    const problem = roughScaleProblem(o.scale);
    return problem ? new ArgumentError('--scale', `${problem}; give a larger --scale, or leave it out to use the rough model's training scale`) : undefined;
  }
  const recorded = scaleOfMetadata(pair.rough.metadata);
  const problem = recorded && (roughScaleProblem(Number(recorded.factorX)) ?? roughScaleProblem(Number(recorded.factorY)));
  if (problem) {
    return new StsError(
      `${pair.rough.path}: the training scale its metadata records (sts.scale: ${recorded.factorX} x ${recorded.factorY}) is not one to predict at: ${problem}; ` +
        `give --scale <factor> (original pixels per rough input pixel, at least ${MIN_ROUGH_SCALE}) or --no-tiling (one S x S rough pass per image)`,
    );
  }
  return undefined;
}
