import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boxBorders, gridBorders, seamCount } from '../../bench/seam-count.js';

/** A label map from rows of characters: '.' background, a digit or letter an object. */
function map(rows: string[]) {
  return { width: rows[0].length, height: rows.length, data: Int32Array.from(rows.join(''), (c) => (c === '.' ? 0 : parseInt(c, 36))) };
}

describe('seam count', () => {
  it('counts a nucleus cut along a tile border, not one split by the network elsewhere, nor a sliver under 10%', () => {
    // Three true nuclei, each 4 x 3.
    const truth = map([
      '1111.2222.3333',
      '1111.2222.3333',
      '1111.2222.3333',
    ]);
    // Nucleus 1 is split at x = 2, nucleus 2 at x = 7; nucleus 3 has a one-pixel sliver (1 of 12 pixels, 8%).
    const pred = map([
      'aabb.ccdd.eeef',
      'aabb.ccdd.eeee',
      'aabb.ccdd.eeee',
    ]);
    const grid = seamCount(pred, truth, gridBorders(6));
    // x = 6 lies inside nucleus 2 (columns 5..8) but its pieces divide at x = 7: fragmented, not a seam.
    assert.deepEqual(grid, { trueObjects: 3, fragmented: 2, cutByBorder: 0 });
    const crops = seamCount(pred, truth, boxBorders([{ left: -10, top: -1, width: 12, height: 5 }], 14, 3));
    assert.deepEqual(crops, { trueObjects: 3, fragmented: 2, cutByBorder: 1 }, 'the crop side x = 2 divides nucleus 1');
    // A lower share makes the sliver a piece.
    assert.equal(seamCount(pred, truth, gridBorders(6), { minShare: 0.05 }).fragmented, 3);
  });
});
