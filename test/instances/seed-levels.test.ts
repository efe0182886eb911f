/** Seeds from a core probability at several levels: touching objects joined by a shallow saddle part, lone ones do not. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectedComponents } from '../../src/geometry/components.js';
import { seedsByLevels } from '../../src/instances/seed-levels.js';
import { splitByCores } from '../../src/instances/split-by-cores.js';

/** A depth-like map: cones of height 1 at the given centres (radius r), the larger value where they overlap. */
function cones(width: number, height: number, centres: [number, number][], r: number): Float32Array {
  const p = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (const [cx, cy] of centres) p[y * width + x] = Math.max(p[y * width + x], 1 - Math.hypot(x - cx, y - cy) / r);
    }
  }
  return p;
}

const seedCount = (seeds: Uint8Array, width: number, height: number) => connectedComponents({ width, height, channels: 1, data: seeds }).count;

describe('seedsByLevels', () => {
  const width = 40;
  const height = 20;
  // Two cones 12 px apart with radius 10: the saddle between them is at 1 - 6/10 = 0.4 on the line joining them.
  it('two cones joined above the threshold part at a level above their saddle', () => {
    const p = cones(width, height, [[13, 10], [25, 10]], 10);
    // At 0.3 they are one core; at 0.5 the saddle (0.4) already parts them.
    assert.equal(seedCount(seedsByLevels(p, width, height, 0.3, { levels: [], minPiece: 4 }), width, height), 1);
    const seeds = seedsByLevels(p, width, height, 0.3, { levels: [0.5, 0.7], minPiece: 4 });
    assert.equal(seedCount(seeds, width, height), 2);
    // Each seed holds its own cone's peak.
    assert.equal(seeds[10 * width + 13], 1);
    assert.equal(seeds[10 * width + 25], 1);
  });

  it('a lone cone stays one seed at every level, as large as at the threshold', () => {
    const p = cones(width, height, [[20, 10]], 9);
    const plain = seedsByLevels(p, width, height, 0.3, { levels: [], minPiece: 4 });
    const levelled = seedsByLevels(p, width, height, 0.3, { levels: [0.5, 0.7, 0.9], minPiece: 4 });
    assert.deepEqual(levelled, plain);
  });

  it('pieces smaller than minPiece do not part a seed', () => {
    const p = cones(width, height, [[13, 10], [25, 10]], 10);
    // Above 0.95 each cone keeps only its peak pixel or so: too small to count, so the seed stays whole.
    const seeds = seedsByLevels(p, width, height, 0.3, { levels: [0.95], minPiece: 4 });
    assert.equal(seedCount(seeds, width, height), 1);
  });

  it('refuses levels that do not rise above the threshold', () => {
    const p = new Float32Array(width * height);
    assert.throws(() => seedsByLevels(p, width, height, 0.5, { levels: [0.4], minPiece: 4 }), /core levels/);
    assert.throws(() => seedsByLevels(p, width, height, 0.5, { levels: [0.8, 0.7], minPiece: 4 }), /core levels/);
    assert.throws(() => seedsByLevels(p, 3, 3, 0.5, { levels: [], minPiece: 4 }), /expected 3 x 3/);
  });
});

describe('splitByCores by relief', () => {
  it('puts the border between two seeds in the valley of the relief, not halfway between the seeds', () => {
    // A 30 x 5 bar: seeds at columns 2-3 and 26-27; the relief's valley at column 8, far from the midpoint (15).
    const width = 30;
    const height = 5;
    const foreground = new Uint8Array(width * height).fill(1);
    const seeds = new Uint8Array(width * height);
    const relief = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        relief[y * width + x] = x < 8 ? 1 - (x - 2.5) ** 2 / 64 : 0.5 + (x - 8) / 40;
        if (x === 2 || x === 3 || x === 26 || x === 27) seeds[y * width + x] = 1;
      }
    }
    const byDistance = splitByCores(foreground, seeds, width, height, { minSize: 0, necks: { depth: 0, minPiece: 8 } });
    const byRelief = splitByCores(foreground, seeds, width, height, { minSize: 0, necks: { depth: 0, minPiece: 8 }, relief });
    const firstColumnOfSecond = (labels: Int32Array) => [...labels.subarray(2 * width, 3 * width)].findIndex((l) => l !== labels[2 * width]);
    assert.equal(byDistance.count, 2);
    assert.equal(byRelief.count, 2);
    assert.equal(firstColumnOfSecond(byDistance.data), 15);
    // The valley pixel itself goes to the side that reached it first (the left, from a higher level).
    assert.equal(firstColumnOfSecond(byRelief.data), 9);
    // Every foreground pixel has an object either way.
    assert.ok(byRelief.data.every((l) => l > 0));
  });

  it('on a flat relief, floods as by distance', () => {
    const width = 20;
    const height = 6;
    const foreground = new Uint8Array(width * height).fill(1);
    const seeds = new Uint8Array(width * height);
    seeds[2 * width + 3] = seeds[3 * width + 3] = seeds[2 * width + 4] = seeds[3 * width + 4] = 1;
    seeds[2 * width + 15] = seeds[3 * width + 15] = seeds[2 * width + 16] = seeds[3 * width + 16] = 1;
    const o = { minSize: 0, minCorePixels: 1, necks: { depth: 0, minPiece: 8 } };
    const flat = new Float32Array(width * height).fill(0.7);
    assert.deepEqual(splitByCores(foreground, seeds, width, height, { ...o, relief: flat }).data, splitByCores(foreground, seeds, width, height, o).data);
  });
});
