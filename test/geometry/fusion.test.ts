import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fuseInto, voteInto, weighInto } from '../../src/geometry/fusion.js';
import { mask } from '../../src/geometry/raster.js';

// A canvas and a box that may reach past any of its sides, and a seed for the map's values.
const canvasAndBox = {
  width: fc.integer({ min: 1, max: 20 }),
  height: fc.integer({ min: 1, max: 20 }),
  left: fc.integer({ min: -15, max: 20 }),
  top: fc.integer({ min: -15, max: 20 }),
  bw: fc.integer({ min: 1, max: 30 }),
  bh: fc.integer({ min: 1, max: 30 }),
  seed: fc.integer({ min: 1, max: 1000 }),
};

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
        fc.record(canvasAndBox),
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

// Boxes grown for context reach past the image: pasting onto the canvas must equal pasting onto a canvas large enough
// to hold the whole box (no clipping at all) and cutting the canvas's window out of it, whatever the sampling.
const boxes = fc.record({ ...canvasAndBox, mode: fc.constantFrom('nearest' as const, 'bilinear' as const) });
const MARGIN = 40;

function cutWindow<T extends Uint8Array | Uint16Array>(big: T, width: number, height: number): number[] {
  const out: number[] = [];
  const W = width + 2 * MARGIN;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.push(big[(y + MARGIN) * W + x + MARGIN]);
  return out;
}

describe('fuseInto and voteInto', () => {
  it('clip boxes reaching past every side of the canvas exactly as an unclipped paste cut to the canvas', () => {
    fc.assert(
      fc.property(boxes, ({ width, height, left, top, bw, bh, seed, mode }) => {
        const size = 8;
        const fine = Float32Array.from({ length: size * size }, (_, i) => ((i * 37 + seed) % 101) / 100);
        const box = { left, top, width: bw, height: bh };
        const moved = { ...box, left: left + MARGIN, top: top + MARGIN };
        const W = width + 2 * MARGIN;
        const H = height + 2 * MARGIN;

        const canvas = mask(width, height, new Uint8Array(width * height));
        fuseInto(canvas, fine, size, box, { mode });
        const big = mask(W, H, new Uint8Array(W * H));
        fuseInto(big, fine, size, moved, { mode });
        assert.deepEqual([...canvas.data], cutWindow(big.data, width, height));

        const votes = new Uint16Array(width * height);
        const cover = new Uint16Array(width * height);
        voteInto(votes, cover, width, height, fine, size, box, { mode });
        const bigVotes = new Uint16Array(W * H);
        const bigCover = new Uint16Array(W * H);
        voteInto(bigVotes, bigCover, W, H, fine, size, moved, { mode });
        assert.deepEqual([...votes], cutWindow(bigVotes, width, height));
        assert.deepEqual([...cover], cutWindow(bigCover, width, height));
        // Cover counts exactly the canvas pixels inside the box.
        const inside = Math.max(0, Math.min(width, left + bw) - Math.max(0, left)) * Math.max(0, Math.min(height, top + bh) - Math.max(0, top));
        assert.equal(cover.reduce((a, b) => a + b, 0), inside);
      }),
      { numRuns: 300 },
    );
  });
});
