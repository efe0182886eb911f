import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { weighInto } from '../../src/geometry/fusion.js';

// The centre-weighted mean written pixel by pixel, the plainest reading of weighInto's doc comment (nearest
// sampling: box pixel x reads map column floor(x * size / width)), to hold the clipped fast loop to.
function weighNaive(sum: Float32Array, weight: Float32Array, width: number, height: number, fine: Float32Array, size: number, box: { left: number; top: number; width: number; height: number }): void {
  const across = (i: number, n: number) => Math.max(1e-3, 1 - Math.abs((2 * i + 1) / n - 1));
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const cx = box.left + x;
      const cy = box.top + y;
      if (cx < 0 || cy < 0 || cx >= width || cy >= height) continue;
      const sx = Math.min(size - 1, Math.floor((x * size) / box.width));
      const sy = Math.min(size - 1, Math.floor((y * size) / box.height));
      const w = across(x, box.width) * across(y, box.height);
      sum[cy * width + cx] += w * fine[sy * size + sx];
      weight[cy * width + cx] += w;
    }
  }
}

describe('weighInto', () => {
  it('sums weight x value and the weight of boxes reaching past every side of the canvas, as pixel by pixel', () => {
    fc.assert(
      fc.property(
        fc.record({
          width: fc.integer({ min: 1, max: 20 }),
          height: fc.integer({ min: 1, max: 20 }),
          left: fc.integer({ min: -15, max: 20 }),
          top: fc.integer({ min: -15, max: 20 }),
          bw: fc.integer({ min: 1, max: 30 }),
          bh: fc.integer({ min: 1, max: 30 }),
          seed: fc.integer({ min: 1, max: 1000 }),
        }),
        ({ width, height, left, top, bw, bh, seed }) => {
          const size = 8;
          const fine = Float32Array.from({ length: size * size }, (_, i) => ((i * 37 + seed) % 101) / 100);
          const box = { left, top, width: bw, height: bh };
          const sum = new Float32Array(width * height);
          const weight = new Float32Array(width * height);
          weighInto(sum, weight, width, height, fine, size, box);
          const sumRef = new Float32Array(width * height);
          const weightRef = new Float32Array(width * height);
          weighNaive(sumRef, weightRef, width, height, fine, size, box);
          for (let i = 0; i < sum.length; i++) {
            assert.ok(Math.abs(sum[i] - sumRef[i]) < 1e-5, `sum at ${i}: ${sum[i]} vs ${sumRef[i]}`);
            assert.ok(Math.abs(weight[i] - weightRef[i]) < 1e-5, `weight at ${i}: ${weight[i]} vs ${weightRef[i]}`);
          }
          // A second map of the same crops (weight null) adds the same sum and touches no weight.
          const again = new Float32Array(width * height);
          weighInto(again, null, width, height, fine, size, box);
          for (let i = 0; i < sum.length; i++) assert.ok(Math.abs(again[i] - sum[i]) < 1e-5);
        },
      ),
      { numRuns: 300 },
    );
  });
});
