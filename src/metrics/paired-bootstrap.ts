/**
 * How sure a mean per-image difference between two evaluations of the same images is: the percentile bootstrap
 * over images of the paired differences. It answers "would other images of this kind move the mean?", not "would
 * another training seed?": the networks are held fixed.
 */
import { ArgumentError } from '../errors.js';
import { seededRng } from '../random.js';

export interface PairedDifference {
  /** Mean of after - before over the images. */
  readonly mean: number;
  /** The interval's bounds (level 0.95: the 2.5th and 97.5th percentiles of the resampled means). */
  readonly low: number;
  readonly high: number;
  readonly n: number;
}

export interface BootstrapOptions {
  /** Resamples of the images (default 4,000). */
  readonly resamples?: number;
  /** Coverage of the interval (default 0.95). */
  readonly level?: number;
  /** Seed of the resampling, so a report is reproducible (default 1). */
  readonly seed?: number;
}

/** `before[i]` and `after[i]` are the same image's metric under two evaluations. */
export function pairedBootstrap(before: ArrayLike<number>, after: ArrayLike<number>, options: BootstrapOptions = {}): PairedDifference {
  const { resamples = 4000, level = 0.95, seed = 1 } = options;
  if (before.length !== after.length) {
    throw new ArgumentError('after', `has ${after.length} values for ${before.length} in before; a paired difference needs one per image on both sides`);
  }
  if (before.length === 0) throw new ArgumentError('before', 'is empty: there are no images to compare');
  if (!Number.isInteger(resamples) || resamples < 1) throw new ArgumentError('resamples', `must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new ArgumentError('level', `must lie between 0 and 1, got ${level}`);
  const n = before.length;
  const diff = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    diff[i] = after[i] - before[i];
    sum += diff[i];
  }
  const rng = seededRng(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += diff[rng.int(0, n - 1)];
    means[r] = s / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  return { mean: sum / n, low: quantile(means, tail), high: quantile(means, 1 - tail), n };
}

/** numpy's default (linear) quantile of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
