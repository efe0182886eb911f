import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { aggregate, confusion, formatSummary, imageMetrics, summarize } from '../../src/metrics/metrics.js';
import { decodeRle, loadFixture } from '../support/fixtures.js';

interface MetricsGolden {
  size: [number, number];
  predRle: number[];
  truthRle: number[];
  dsc: number;
  iou: number;
  precision: number;
  recall: number;
}

describe('per-image metrics', () => {
  it('match all 60 reference cases, empty-mask rules included', () => {
    const golden = loadFixture<MetricsGolden[]>('golden_metrics.json.gz');
    assert.equal(golden.length, 60);
    let emptyTruth = 0;
    for (const c of golden) {
      const [H, W] = c.size;
      const m = imageMetrics(decodeRle(c.predRle, H, W), decodeRle(c.truthRle, H, W));
      if (c.truthRle.length === 0) emptyTruth++;
      for (const k of ['dsc', 'iou', 'precision', 'recall'] as const) {
        assert.ok(Math.abs(m[k] - c[k]) < 1e-12, `${k}: ${m[k]} vs ${c[k]} for ${JSON.stringify(c.size)}`);
      }
    }
    assert.ok(emptyTruth > 0);
  });

  it('count every pixel once and binarise at > 0.5', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.integer(), (values, shift) => {
        const n = values.length;
        const pred = { width: n, height: 1, channels: 1 as const, data: Float64Array.from(values) };
        const truth = { width: n, height: 1, channels: 1 as const, data: Float64Array.from(values, (_, i) => values[(i + Math.abs(shift)) % n]) };
        const c = confusion(pred, truth);
        assert.equal(c.tp + c.fp + c.fn + c.tn, n);
        assert.equal(c.tp + c.fp, values.filter((v) => v > 0.5).length);
        const m = imageMetrics(pred, truth);
        for (const v of Object.values(m)) assert.ok(v >= 0 && v <= 1);
        assert.ok(m.iou <= m.dsc + 1e-12);
      }),
    );
    const half = { width: 1, height: 1, channels: 1 as const, data: Float32Array.from([0.5]) };
    assert.equal(confusion(half, half).tp, 0);
  });

  it('name the argument on bad input', () => {
    const a = { width: 2, height: 2, channels: 1 as const, data: new Uint8Array(4) };
    const b = { width: 4, height: 1, channels: 1 as const, data: new Uint8Array(4) };
    assert.throws(() => confusion(b, a), /pred: is 4 x 1 but truth is 2 x 2/);
    assert.throws(() => confusion({ ...a, data: new Uint8Array(3) }, a), /pred\.data: has 3 values but 2 x 2 x 1 needs 4/);
    assert.throws(() => confusion({ ...a, data: Float32Array.from([0, 0, Infinity, 0]) }, a), /pred\.data: value at index 2 is Infinity/);
  });
});

describe('aggregation', () => {
  it('gives mean and population std, formatted as the paper', () => {
    const s = summarize([1, 2, 3, 4]);
    assert.equal(s.mean, 2.5);
    assert.ok(Math.abs(s.std - Math.sqrt(1.25)) < 1e-15);
    assert.equal(formatSummary(summarize([0.8, 0.9])), '0.850 ± 0.050');
    const agg = aggregate([
      { dsc: 1, iou: 1, precision: 1, recall: 0 },
      { dsc: 0, iou: 0, precision: 1, recall: 1 },
    ]);
    assert.deepEqual(agg.dsc, { mean: 0.5, std: 0.5, n: 2 });
    assert.deepEqual(agg.precision, { mean: 1, std: 0, n: 2 });
    assert.ok(Number.isNaN(summarize([]).mean));
  });
});
