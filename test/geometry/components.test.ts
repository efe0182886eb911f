import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { componentCentroids, connectedComponents, labelImage } from '../../src/geometry/components.js';
import type { Box, Mask } from '../../src/geometry/raster.js';
import { decodeRle, loadFixture } from '../support/fixtures.js';

interface GetBboxesGolden {
  size: [number, number];
  components: number;
  maskRle: number[];
}

/** Naive 8-connected flood fill with an explicit stack: the independent answer to check the run-based labeller. */
function floodFill(m: Mask): { labels: Int32Array; count: number } {
  const { width: W, height: H } = m;
  const labels = new Int32Array(W * H);
  let count = 0;
  for (let i = 0; i < W * H; i++) {
    if (!(m.data[i] >= 0.5) || labels[i]) continue;
    labels[i] = ++count;
    const stack = [i];
    while (stack.length) {
      const p = stack.pop()!;
      const y = Math.floor(p / W);
      const x = p % W;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const ny = y + dy;
          const nx = x + dx;
          if (ny < 0 || ny >= H || nx < 0 || nx >= W) continue;
          const q = ny * W + nx;
          if (m.data[q] >= 0.5 && !labels[q]) {
            labels[q] = count;
            stack.push(q);
          }
        }
      }
    }
  }
  return { labels, count };
}

/** OpenCV's order: by the first 2 x 2 block (raster order of blocks) each component touches. */
function opencvOrder(labels: Int32Array, count: number, W: number): number[] {
  const key = new Array<number>(count + 1).fill(Infinity);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!l) continue;
    const k = Math.floor(Math.floor(i / W) / 2) * W + Math.floor((i % W) / 2);
    if (k < key[l]) key[l] = k;
  }
  return Array.from({ length: count }, (_, k) => k + 1).sort((a, b) => key[a] - key[b]);
}

function boxOf(labels: Int32Array, label: number, W: number): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== label) continue;
    const y = Math.floor(i / W), x = i % W;
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  return { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

const randomMask = fc
  .record({ w: fc.integer({ min: 1, max: 48 }), h: fc.integer({ min: 1, max: 48 }), density: fc.double({ min: 0.05, max: 0.7, noNaN: true }), seed: fc.integer() })
  .map(({ w, h, density, seed }) => {
    let s = seed >>> 0 || 1;
    const data = new Uint8Array(w * h);
    for (let i = 0; i < data.length; i++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      data[i] = s / 2 ** 32 < density ? 1 : 0;
    }
    return { width: w, height: h, channels: 1 as const, data };
  });

describe('connected components', () => {
  it('finds as many components as OpenCV in the 80 reference masks', () => {
    const golden = loadFixture<GetBboxesGolden[]>('golden_get_bboxes.json.gz');
    assert.equal(golden.length, 80);
    for (const c of golden) {
      const [H, W] = c.size;
      assert.equal(connectedComponents(decodeRle(c.maskRle, H, W)).count, c.components);
    }
  });

  it('agrees with a naive flood fill on random masks: same pixels, boxes and areas, in OpenCV order', () => {
    fc.assert(
      fc.property(randomMask, (m) => {
        const naive = floodFill(m);
        const ours = connectedComponents(m);
        assert.equal(ours.count, naive.count);
        const order = opencvOrder(naive.labels, naive.count, m.width);
        const ourLabels = labelImage(ours);
        for (let k = 0; k < ours.count; k++) {
          const theirs = order[k];
          for (let i = 0; i < m.data.length; i++) {
            assert.equal(ourLabels[i] === k + 1, naive.labels[i] === theirs, `pixel ${i}, component ${k + 1}`);
          }
          assert.deepEqual(ours.boxes[k], boxOf(naive.labels, theirs, m.width));
          assert.equal(ours.areas[k], naive.labels.filter((l) => l === theirs).length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('joins diagonal neighbours and keeps separated runs apart', () => {
    const data = Uint8Array.from([
      1, 0, 0, 0, 1,
      0, 1, 0, 0, 1,
      0, 0, 0, 0, 0,
      1, 1, 0, 1, 0,
    ]);
    const c = connectedComponents({ width: 5, height: 4, channels: 1, data });
    assert.equal(c.count, 4);
    assert.deepEqual(c.boxes[0], { left: 0, top: 0, width: 2, height: 2 });
    assert.deepEqual(c.boxes[1], { left: 4, top: 0, width: 1, height: 2 });
  });

  it('gives each component its centre of mass in pixel-centre coordinates', () => {
    const data = Uint8Array.from([
      1, 1, 0, 0, 0,
      1, 1, 0, 0, 0,
      0, 0, 0, 1, 0,
    ]);
    const c = connectedComponents({ width: 5, height: 3, channels: 1, data });
    const { x, y } = componentCentroids(c);
    assert.deepEqual([...x], [1, 3.5]);
    assert.deepEqual([...y], [1, 2.5]);
  });

  it('reads probability maps with the >= threshold rule and rejects NaN', () => {
    const data = Float32Array.from([0.5, 0.49, 0.7, 0.0]);
    assert.equal(connectedComponents({ width: 4, height: 1, channels: 1, data }).count, 2);
    assert.throws(
      () => connectedComponents({ width: 2, height: 1, channels: 1, data: Float32Array.from([0, NaN]) }),
      /mask\.data: value at index 1 is NaN/,
    );
  });
});
