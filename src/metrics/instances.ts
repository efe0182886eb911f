/**
 * Instance metrics of a predicted label map against a true one, as the 2018 Data Science Bowl scored nuclei, plus
 * the share of true objects merged and split. Pure typed-array code, platform-free.
 *
 * - Matching: a predicted and a true object match at threshold t when their IoU is > t. Only t >= 0.5 is allowed,
 *   because then a match is one-to-one without any assignment step: IoU(P, T) > 0.5 means the intersection is
 *   more than half of the union, so more than half of T and more than half of P; the predicted objects are
 *   disjoint, so at most one of them holds more than half of T (and likewise for P). DSB2018 used t = 0.5..0.95.
 * - Per threshold: TP = matches, FP = predicted objects unmatched, FN = true objects unmatched, and the image's
 *   precision(t) = TP / (TP + FP + FN): 1 when the image has neither true nor predicted objects, 0 when only one
 *   side has none. `ap50` and `ap75` are precision(0.5) and precision(0.75); `meanAp` is the mean of precision(t)
 *   over t = 0.5, 0.55, ..., 0.95 (the DSB2018 metric). Over images: the mean of the per-image values, as DSB2018.
 * - Merged: a true object more than half of whose area lies inside one predicted object that also holds more than
 *   half of another true object (both true objects of such a pair count as merged).
 * - Split, the mirror image: a true object that holds more than half of the area of each of two or more predicted
 *   objects (each true object split so counts once). A tiny predicted fragment inside a true object counts as a
 *   piece, as a tiny true object swallowed by a predicted one counts as merged.
 *   `merged` and `split` are shares of the image's true objects (0 when it has none); `aggregateInstances` also
 *   gives the shares of all true objects pooled over the images.
 *
 * Everything comes from one table of overlaps, built in one pass over the pixels (runs of equal label pairs
 * along each row are counted together), so the cost is linear in pixels plus the number of overlapping pairs.
 */
import { ArgumentError } from '../errors.js';
import { type LabelMap, assertLabelMap } from '../geometry/label-map.js';
import { assertSameSize } from '../geometry/raster.js';
import { type Summary, aggregate } from './metrics.js';

/** The DSB2018 thresholds 0.5, 0.55, ..., 0.95, each the double nearest to k / 100 (so IoU 0.6 is not > 0.6). */
export const IOU_THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, k) => (50 + 5 * k) / 100);

/** Objects of one label map: their labels in increasing order and their areas in pixels. */
export interface LabelObjects {
  readonly labels: Uint32Array;
  readonly areas: Float64Array;
}

/** Which objects overlap and by how many pixels. */
export interface OverlapTable {
  readonly pred: LabelObjects;
  readonly truth: LabelObjects;
  /** Every overlapping pair once: indices into `pred` and `truth`'s arrays, and the shared pixels. */
  readonly pairs: { readonly pred: Int32Array; readonly truth: Int32Array; readonly intersection: Float64Array };
}

/** Pair keys are predIndex * PAIR_STRIDE + trueIndex; exact in a double while predIndex < 2^27. */
const PAIR_STRIDE = 2 ** 26;

/** Growable per-object accumulator with a cache of the last label looked up (runs of one label are common). */
class ObjectCounter {
  private readonly index = new Map<number, number>();
  readonly labels: number[] = [];
  readonly areas: number[] = [];
  private lastLabel = -1;
  private lastIndex = -1;
  add(label: number, count: number): number {
    if (label !== this.lastLabel) {
      let i = this.index.get(label);
      if (i === undefined) {
        i = this.labels.length;
        this.index.set(label, i);
        this.labels.push(label);
        this.areas.push(0);
      }
      this.lastLabel = label;
      this.lastIndex = i;
    }
    this.areas[this.lastIndex] += count;
    return this.lastIndex;
  }
  /** The objects sorted by label, and where each first-seen index went. */
  sorted(): { objects: LabelObjects; newIndex: Int32Array } {
    const order = this.labels.map((_, i) => i).sort((a, b) => this.labels[a] - this.labels[b]);
    const newIndex = new Int32Array(order.length);
    order.forEach((old, k) => (newIndex[old] = k));
    return {
      objects: { labels: Uint32Array.from(order, (i) => this.labels[i]), areas: Float64Array.from(order, (i) => this.areas[i]) },
      newIndex,
    };
  }
}

/** The overlap table of a predicted and a true label map of the same size, in one pass over the pixels. */
export function overlapTable(pred: LabelMap, truth: LabelMap): OverlapTable {
  assertLabelMap(pred, 'pred');
  assertLabelMap(truth, 'truth');
  assertSameSize(truth, pred, 'truth', 'pred');
  const p = pred.data;
  const t = truth.data;
  const predObjects = new ObjectCounter();
  const trueObjects = new ObjectCounter();
  const pairIndex = new Map<number, number>();
  const pairPred: number[] = [];
  const pairTrue: number[] = [];
  const pairCount: number[] = [];

  const flush = (pl: number, tl: number, n: number, at: number) => {
    if (pl < 0 || tl < 0) {
      const [name, value] = pl < 0 ? ['pred', pl] : ['truth', tl];
      throw new ArgumentError(name, `has the negative label ${value} at pixel ${at}; labels are 0 (background) or positive`);
    }
    const pi = pl > 0 ? predObjects.add(pl, n) : -1;
    const ti = tl > 0 ? trueObjects.add(tl, n) : -1;
    if (pi < 0 || ti < 0) return;
    if (pi >= 2 * PAIR_STRIDE || ti >= PAIR_STRIDE) {
      throw new ArgumentError('pred', `has more objects than the overlap table counts (${PAIR_STRIDE} true, ${2 * PAIR_STRIDE} predicted)`);
    }
    const key = pi * PAIR_STRIDE + ti;
    const k = pairIndex.get(key);
    if (k === undefined) {
      pairIndex.set(key, pairCount.length);
      pairPred.push(pi);
      pairTrue.push(ti);
      pairCount.push(n);
    } else pairCount[k] += n;
  };

  // Runs of one (pred, truth) pair are counted together; a run may continue across rows (any run is still one pair).
  const n = p.length;
  let runP = p[0];
  let runT = t[0];
  let runStart = 0;
  for (let i = 1; i < n; i++) {
    const a = p[i];
    const b = t[i];
    if (a !== runP || b !== runT) {
      if (runP !== 0 || runT !== 0) flush(runP, runT, i - runStart, runStart);
      runP = a;
      runT = b;
      runStart = i;
    }
  }
  if (runP !== 0 || runT !== 0) flush(runP, runT, n - runStart, runStart);

  const ps = predObjects.sorted();
  const ts = trueObjects.sorted();
  return {
    pred: ps.objects,
    truth: ts.objects,
    pairs: {
      pred: Int32Array.from(pairPred, (i) => ps.newIndex[i]),
      truth: Int32Array.from(pairTrue, (i) => ts.newIndex[i]),
      intersection: Float64Array.from(pairCount),
    },
  };
}

/** IoU of each pair of the table. */
export function pairIoUs(table: OverlapTable): Float64Array {
  const { pred, truth, intersection } = table.pairs;
  return Float64Array.from(intersection, (inter, k) => inter / (table.pred.areas[pred[k]] + table.truth.areas[truth[k]] - inter));
}

function assertThreshold(threshold: number): void {
  if (!(threshold >= 0.5 && threshold < 1)) {
    throw new ArgumentError(
      'threshold',
      `must be in [0.5, 1), got ${threshold}: matching at IoU > t is one-to-one only for t >= 0.5 (the DSB2018 thresholds are 0.5..0.95)`,
    );
  }
}

/** The matches at IoU > `threshold` (>= 0.5, where they are one-to-one): indices into the table's objects. */
export function matchObjects(table: OverlapTable, threshold: number): { readonly pred: Int32Array; readonly truth: Int32Array; readonly iou: Float64Array } {
  assertThreshold(threshold);
  const ious = pairIoUs(table);
  const keep: number[] = [];
  ious.forEach((iou, k) => iou > threshold && keep.push(k));
  return {
    pred: Int32Array.from(keep, (k) => table.pairs.pred[k]),
    truth: Int32Array.from(keep, (k) => table.pairs.truth[k]),
    iou: Float64Array.from(keep, (k) => ious[k]),
  };
}

export interface ThresholdScore {
  readonly threshold: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** TP / (TP + FP + FN); 1 when there are no objects at all. */
  readonly precision: number;
}

export interface InstanceMetrics {
  readonly trueObjects: number;
  readonly predictedObjects: number;
  /** One per IOU_THRESHOLDS entry. */
  readonly perThreshold: readonly ThresholdScore[];
  readonly ap50: number;
  readonly ap75: number;
  /** Mean precision over IoU 0.5:0.05:0.95 (DSB2018). */
  readonly meanAp: number;
  /** Share of true objects merged (0 when there are none), and their number. */
  readonly merged: number;
  readonly mergedObjects: number;
  /** Share of true objects split (0 when there are none), and their number. */
  readonly split: number;
  readonly splitObjects: number;
}

export const INSTANCE_METRIC_NAMES = ['ap50', 'ap75', 'meanAp', 'merged', 'split'] as const;
export type InstanceMetricName = (typeof INSTANCE_METRIC_NAMES)[number];

/** True objects merged and split (see the module comment), from the table. */
export function mergedAndSplit(table: OverlapTable): { readonly merged: number; readonly split: number } {
  const nP = table.pred.labels.length;
  const nT = table.truth.labels.length;
  const { pred, truth, intersection } = table.pairs;
  // The predicted object holding more than half of each true object (-1: none), and how many such each holds;
  // the mirror for predicted objects. "More than half" is unique, so one pass over the pairs fills both.
  const majorityPredOf = new Int32Array(nT).fill(-1);
  const truthsHeldBy = new Int32Array(nP);
  const predsHeldBy = new Int32Array(nT);
  for (let k = 0; k < intersection.length; k++) {
    const twice = 2 * intersection[k];
    if (twice > table.truth.areas[truth[k]]) {
      majorityPredOf[truth[k]] = pred[k];
      truthsHeldBy[pred[k]]++;
    }
    if (twice > table.pred.areas[pred[k]]) predsHeldBy[truth[k]]++;
  }
  let merged = 0;
  let split = 0;
  for (let i = 0; i < nT; i++) {
    if (majorityPredOf[i] >= 0 && truthsHeldBy[majorityPredOf[i]] >= 2) merged++;
    if (predsHeldBy[i] >= 2) split++;
  }
  return { merged, split };
}

/** All instance metrics of one image from its overlap table. */
export function instanceMetricsFromTable(table: OverlapTable): InstanceMetrics {
  const nP = table.pred.labels.length;
  const nT = table.truth.labels.length;
  const ious = pairIoUs(table);
  const perThreshold = IOU_THRESHOLDS.map((threshold) => {
    let tp = 0;
    for (const iou of ious) if (iou > threshold) tp++;
    const fp = nP - tp;
    const fn = nT - tp;
    const all = tp + fp + fn;
    return { threshold, tp, fp, fn, precision: all === 0 ? 1 : tp / all };
  });
  const at = (t: number) => perThreshold.find((s) => s.threshold === t)!.precision;
  const { merged, split } = mergedAndSplit(table);
  return {
    trueObjects: nT,
    predictedObjects: nP,
    perThreshold,
    ap50: at(0.5),
    ap75: at(0.75),
    meanAp: perThreshold.reduce((s, x) => s + x.precision, 0) / perThreshold.length,
    merged: nT === 0 ? 0 : merged / nT,
    mergedObjects: merged,
    split: nT === 0 ? 0 : split / nT,
    splitObjects: split,
  };
}

/** All instance metrics of a predicted label map against the true one. */
export function instanceMetrics(pred: LabelMap, truth: LabelMap): InstanceMetrics {
  return instanceMetricsFromTable(overlapTable(pred, truth));
}

export interface InstanceSummary {
  /** Mean ± std over images of each per-image value (DSB2018 averaged the per-image scores). */
  readonly perImage: Record<InstanceMetricName, Summary>;
  readonly trueObjects: number;
  readonly predictedObjects: number;
  /** Merged and split true objects as shares of all true objects of all images (NaN when there are none). */
  readonly mergedPooled: number;
  readonly splitPooled: number;
}

export function aggregateInstances(perImage: readonly InstanceMetrics[]): InstanceSummary {
  let trueObjects = 0;
  let predictedObjects = 0;
  let merged = 0;
  let split = 0;
  for (const m of perImage) {
    trueObjects += m.trueObjects;
    predictedObjects += m.predictedObjects;
    merged += m.mergedObjects;
    split += m.splitObjects;
  }
  return {
    perImage: aggregate(perImage, INSTANCE_METRIC_NAMES),
    trueObjects,
    predictedObjects,
    mergedPooled: trueObjects === 0 ? Number.NaN : merged / trueObjects,
    splitPooled: trueObjects === 0 ? Number.NaN : split / trueObjects,
  };
}
