import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { componentLabelMap, type LabelMap } from '../../src/geometry/label-map.js';
import {
  aggregateInstances,
  instanceMetrics,
  IOU_THRESHOLDS,
  matchObjects,
  overlapTable,
} from '../../src/metrics/instances.js';

const W = 20;
const H = 5;

/** A W x H label map with the given rectangles painted in order: [label, x, y, width, height]. */
function paint(rects: readonly (readonly number[])[], Type: { new (n: number): Uint16Array | Uint32Array | Int32Array } = Uint16Array): LabelMap {
  const data = new Type(W * H);
  for (const [label, x0, y0, w, h] of rects) {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * W + x] = label;
  }
  return { width: W, height: H, data };
}

/**
 * The hand-computed case (20 x 5 pixels):
 *   T1 10 px, P1 6 px inside it                -> IoU 6/10 = 0.6
 *   T2 10 px, P2 9 px inside it                -> IoU 9/10 = 0.9
 *   T3 4 px and T4 4 px touching, P3 = T3 + T4 -> IoU 4/8 = 0.5 each: no match; T3 and T4 merged
 *   T5 10 px, P4 and P5 its two halves          -> IoU 0.5 each: no match; T5 split
 *   T6 5 px, no prediction                      -> a false negative
 *   P6 3 px on background                       -> a false positive
 * 6 true and 6 predicted objects. Matches need IoU > t (strictly), so:
 *   t = 0.50, 0.55:                  TP 2 (P1, P2), FP 4, FN 4 -> 2 / 10 = 0.2
 *   t = 0.60 .. 0.85 (6 thresholds): TP 1 (P2),     FP 5, FN 5 -> 1 / 11
 *   t = 0.90, 0.95:                  TP 0,          FP 6, FN 6 -> 0
 *   mean AP = (2 * 0.2 + 6 / 11 + 0) / 10 = 0.0945454...; merged 2 / 6, split 1 / 6.
 */
function handCase(Type?: { new (n: number): Uint16Array | Uint32Array | Int32Array }, relabel: (k: number) => number = (k) => k) {
  const truth = paint(
    [
      [1, 0, 0, 5, 2],
      [2, 6, 0, 5, 2],
      [3, 12, 0, 2, 2],
      [4, 14, 0, 2, 2],
      [5, 0, 3, 5, 2],
      [6, 6, 3, 5, 1],
    ].map(([k, ...r]) => [relabel(k), ...r]),
    Type,
  );
  const pred = paint(
    [
      [1, 0, 0, 3, 2],
      [2, 6, 0, 5, 1],
      [2, 6, 1, 4, 1],
      [3, 12, 0, 4, 2],
      [4, 0, 3, 5, 1],
      [5, 0, 4, 5, 1],
      [6, 12, 3, 3, 1],
    ].map(([k, ...r]) => [relabel(k + 10), ...r]),
    Type,
  );
  return { pred, truth };
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

describe('instance metrics', () => {
  it('thresholds are 0.5, 0.55, ..., 0.95', () => {
    assert.deepEqual(IOU_THRESHOLDS, [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]);
  });

  it('score the hand-computed case: AP at every threshold, mean AP, merged and split', () => {
    const { pred, truth } = handCase();
    const m = instanceMetrics(pred, truth);
    assert.equal(m.trueObjects, 6);
    assert.equal(m.predictedObjects, 6);
    const expected = [0.2, 0.2, 1 / 11, 1 / 11, 1 / 11, 1 / 11, 1 / 11, 1 / 11, 0, 0];
    m.perThreshold.forEach((s, k) => {
      close(s.precision, expected[k], `precision at ${s.threshold}`);
      assert.equal(s.tp + s.fn, 6);
      assert.equal(s.tp + s.fp, 6);
    });
    assert.deepEqual(m.perThreshold.map((s) => s.tp), [2, 2, 1, 1, 1, 1, 1, 1, 0, 0]);
    close(m.ap50, 0.2, 'AP@0.5');
    close(m.ap75, 1 / 11, 'AP@0.75');
    close(m.meanAp, (0.4 + 6 / 11) / 10, 'mean AP');
    close(m.merged, 2 / 6, 'merged');
    assert.equal(m.mergedObjects, 2);
    close(m.split, 1 / 6, 'split');
    assert.equal(m.splitObjects, 1);
  });

  it('build the overlap table with every object area and each overlapping pair once', () => {
    const { pred, truth } = handCase();
    const t = overlapTable(pred, truth);
    assert.deepEqual([...t.truth.labels], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...t.truth.areas], [10, 10, 4, 4, 10, 5]);
    assert.deepEqual([...t.pred.labels], [11, 12, 13, 14, 15, 16]);
    assert.deepEqual([...t.pred.areas], [6, 9, 8, 5, 5, 3]);
    const pairs = [...t.pairs.pred].map((p, k) => `${t.pred.labels[p]}-${t.truth.labels[t.pairs.truth[k]]}:${t.pairs.intersection[k]}`).sort();
    assert.deepEqual(pairs, ['11-1:6', '12-2:9', '13-3:4', '13-4:4', '14-5:5', '15-5:5']);
    const at05 = matchObjects(t, 0.5);
    assert.deepEqual([...at05.iou].sort(), [0.6, 0.9]);
    assert.throws(() => matchObjects(t, 0.3), /one-to-one only for t >= 0\.5/);
  });

  it('give the same numbers for 32-bit and signed labels, large and non-consecutive', () => {
    const base = instanceMetrics(handCase().pred, handCase().truth);
    for (const [Type, relabel] of [
      [Uint32Array, (k: number) => 4_000_000_000 - k * 1_000_003],
      [Int32Array, (k: number) => 70_000 + k * k * 977],
      [Uint16Array, (k: number) => 65535 - 3 * k],
    ] as const) {
      const { pred, truth } = handCase(Type, relabel);
      assert.deepEqual(instanceMetrics(pred, truth), base, Type.name);
    }
    const t = overlapTable(handCase(Uint32Array, (k) => 4_000_000_000 - k).pred, handCase(Uint32Array, (k) => 4_000_000_000 - k).truth);
    assert.equal(t.truth.labels[5], 4_000_000_000 - 1);
  });

  it('score an image without objects 1 and an image with objects on one side only 0', () => {
    const empty = paint([]);
    const some = paint([[7, 2, 2, 3, 2]]);
    const both = instanceMetrics(empty, empty);
    assert.deepEqual([both.ap50, both.ap75, both.meanAp, both.merged, both.split], [1, 1, 1, 0, 0]);
    for (const [pred, truth] of [
      [empty, some],
      [some, empty],
    ]) {
      const m = instanceMetrics(pred, truth);
      assert.deepEqual([m.ap50, m.ap75, m.meanAp], [0, 0, 0]);
    }
    assert.equal(instanceMetrics(empty, some).trueObjects, 1);
    assert.equal(instanceMetrics(some, empty).predictedObjects, 1);
  });

  it('refuse negative labels and maps of different sizes, naming the argument', () => {
    const neg = { width: 2, height: 1, data: Int32Array.from([0, -3]) };
    const ok = { width: 2, height: 1, data: Int32Array.from([0, 1]) };
    assert.throws(() => overlapTable(neg, ok), /pred: has the negative label -3 at pixel 1/);
    assert.throws(() => overlapTable(ok, neg), /truth: has the negative label -3/);
    assert.throws(() => overlapTable({ width: 1, height: 2, data: new Uint16Array(2) }, ok), /pred: is 1 x 2 but truth is 2 x 1/);
  });

  it('average per image, and pool merged and split over all true objects', () => {
    const { pred, truth } = handCase();
    const perfect = instanceMetrics(truth, truth);
    const s = aggregateInstances([instanceMetrics(pred, truth), perfect]);
    close(s.perImage.ap50.mean, 0.6, 'mean AP@0.5');
    close(s.perImage.meanAp.mean, ((0.4 + 6 / 11) / 10 + 1) / 2, 'mean of mean AP');
    close(s.perImage.merged.mean, 1 / 6, 'merged, mean over images');
    assert.equal(s.perImage.ap50.n, 2);
    assert.equal(s.trueObjects, 12);
    assert.equal(s.predictedObjects, 12);
    close(s.mergedPooled, 2 / 12, 'merged, pooled');
    close(s.splitPooled, 1 / 12, 'split, pooled');
  });

  it('score the connected components of a semantic mask: touching objects come out merged', () => {
    // The hand case's truth as a binary mask: T3 and T4 touch, so they become one component.
    const { truth } = handCase();
    const mask = { width: W, height: H, channels: 1 as const, data: Uint8Array.from(truth.data, (v) => (v > 0 ? 1 : 0)) };
    const components = componentLabelMap(mask);
    const m = instanceMetrics(components, truth);
    assert.equal(m.predictedObjects, 5);
    close(m.merged, 2 / 6, 'merged');
    close(m.ap50, 4 / 7, 'AP@0.5: 4 matched, 1 FP, 2 FN');
  });

  // Random label maps: a few objects (labels repeat far apart, some labels are huge) on a small grid; pairs share a size.
  const VALUES = [0, 1, 2, 3, 70_000, 4_294_967_295];
  const cells = fc.array(fc.integer({ min: 0, max: VALUES.length - 1 }), { minLength: 144, maxLength: 144 });
  const toMap = (width: number, height: number, seed: number[]) => ({
    width,
    height,
    data: Uint32Array.from({ length: width * height }, (_, i) => VALUES[seed[i]]),
  });
  const size = fc.record({ width: fc.integer({ min: 1, max: 12 }), height: fc.integer({ min: 1, max: 12 }) });
  const labelMaps = fc.tuple(size, cells).map(([{ width, height }, seed]) => toMap(width, height, seed));
  const mapPairs = fc.tuple(size, cells, cells).map(([{ width, height }, s1, s2]) => [toMap(width, height, s1), toMap(width, height, s2)] as const);

  it('property: a label map against itself has AP 1 at every threshold and nothing merged or split', () => {
    fc.assert(
      fc.property(labelMaps, (map) => {
        const m = instanceMetrics(map, map);
        for (const s of m.perThreshold) assert.equal(s.precision, 1);
        assert.equal(m.merged, 0);
        assert.equal(m.split, 0);
      }),
    );
  });

  it('property: renumbering the labels of either map changes nothing, and swapping the maps keeps AP', () => {
    fc.assert(
      fc.property(mapPairs, fc.uniqueArray(fc.integer({ min: 1, max: 4_294_967_295 }), { minLength: 6, maxLength: 6 }), ([a, b], ids) => {
        const table = new Map(VALUES.map((v, k) => [v, k === 0 ? 0 : ids[k]]));
        const renumber = (m: typeof a) => ({ ...m, data: Uint32Array.from(m.data, (v) => table.get(v)!) });
        const base = instanceMetrics(a, b);
        assert.deepEqual(instanceMetrics(renumber(a), b), base);
        assert.deepEqual(instanceMetrics(a, renumber(b)), base);
        const swapped = instanceMetrics(b, a);
        assert.deepEqual(swapped.perThreshold.map((s) => s.precision), base.perThreshold.map((s) => s.precision));
      }),
      { numRuns: 300 },
    );
  });

  it('property: the same numbers as scoring every pair of objects directly', () => {
    fc.assert(
      fc.property(mapPairs, ([a, b]) => {
        const m = instanceMetrics(a, b);
        // Brute force: areas and intersections per label pair.
        const labelsOf = (d: Uint32Array) => [...new Set(d)].filter((v) => v > 0);
        const area = (d: Uint32Array, v: number) => d.filter((x) => x === v).length;
        const inter = (p: number, t: number) => a.data.filter((x, i) => x === p && b.data[i] === t).length;
        const P = labelsOf(a.data);
        const T = labelsOf(b.data);
        for (const s of m.perThreshold) {
          let tp = 0;
          for (const p of P) for (const t of T) if (inter(p, t) / (area(a.data, p) + area(b.data, t) - inter(p, t)) > s.threshold) tp++;
          assert.equal(s.tp, tp);
        }
        const majority = (t: number) => P.find((p) => 2 * inter(p, t) > area(b.data, t));
        const merged = T.filter((t) => {
          const p = majority(t);
          return p !== undefined && T.some((u) => u !== t && 2 * inter(p, u) > area(b.data, u));
        }).length;
        const split = T.filter((t) => P.filter((p) => 2 * inter(p, t) > area(a.data, p)).length >= 2).length;
        assert.equal(m.mergedObjects, merged);
        assert.equal(m.splitObjects, split);
      }),
      { numRuns: 200 },
    );
  });
});
