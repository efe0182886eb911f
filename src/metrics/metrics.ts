/**
 * Per-image segmentation metrics with the reference implementation's rules, so our tables compare with the
 * paper's: masks are binarised at > 0.5; DSC and IoU are 1 when prediction and truth are both empty and 0 when
 * only the truth is; precision and recall treat a mask of <= 5 pixels as empty (1 if both are, else 0).
 */
import { type Mask, assertMask, assertSameSize } from '../geometry/raster.js';

/** Pixel counts of one prediction against its truth. */
export interface Confusion {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
}

export interface ImageMetrics {
  readonly dsc: number;
  readonly iou: number;
  readonly precision: number;
  readonly recall: number;
}

export const METRIC_NAMES = ['dsc', 'iou', 'precision', 'recall'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Masks with at most this many foreground pixels count as empty for precision and recall. */
export const NEARLY_EMPTY_PIXELS = 5;

/** Counts TP / FP / FN / TN with foreground `value > threshold` (the reference's `_thresh`). */
export function confusion(pred: Mask, truth: Mask, threshold = 0.5): Confusion {
  assertMask(pred, 'pred', { finite: true });
  assertMask(truth, 'truth', { finite: true });
  assertSameSize(truth, pred, 'truth', 'pred');
  const p = pred.data;
  const t = truth.data;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] > threshold;
    const b = t[i] > threshold;
    if (a) {
      if (b) tp++;
      else fp++;
    } else if (b) fn++;
  }
  return { tp, fp, fn, tn: p.length - tp - fp - fn };
}

export function metricsFromConfusion({ tp, fp, fn }: Confusion): ImageMetrics {
  const predCount = tp + fp;
  const truthCount = tp + fn;
  const dsc = truthCount === 0 ? (predCount === 0 ? 1 : 0) : (2 * tp) / (predCount + truthCount);
  const union = tp + fp + fn;
  const iou = union === 0 ? 1 : tp / union;
  let precision: number;
  let recall: number;
  if (truthCount <= NEARLY_EMPTY_PIXELS) {
    precision = recall = predCount <= NEARLY_EMPTY_PIXELS ? 1 : 0;
  } else if (predCount <= NEARLY_EMPTY_PIXELS) {
    precision = recall = 0;
  } else {
    precision = tp / predCount;
    recall = tp / truthCount;
  }
  return { dsc, iou, precision, recall };
}

export function imageMetrics(pred: Mask, truth: Mask): ImageMetrics {
  return metricsFromConfusion(confusion(pred, truth));
}

export interface Summary {
  readonly mean: number;
  /** Population standard deviation (numpy's default, as the reference reports). */
  readonly std: number;
  readonly n: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { mean, std: Math.sqrt(sq / n), n };
}

/** Mean +- std of each metric over images: DSC, IoU, precision, recall, or the `names` given (instance metrics). */
export function aggregate(perImage: readonly ImageMetrics[]): Record<MetricName, Summary>;
export function aggregate<K extends string>(perImage: readonly Readonly<Record<K, number>>[], names: readonly K[]): Record<K, Summary>;
export function aggregate(perImage: readonly object[], names: readonly string[] = METRIC_NAMES): Record<string, Summary> {
  const out: Record<string, Summary> = {};
  for (const name of names) out[name] = summarize(perImage.map((m) => (m as Record<string, number>)[name]));
  return out;
}

/** `0.843 ± 0.121`, the paper's table format. */
export function formatSummary(s: Summary, digits = 3): string {
  return `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}
