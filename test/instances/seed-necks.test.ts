/**
 * Seeds joined by a neck (src/instances/seed-necks.ts): a bridged pair of cores is cut into its two pieces, a
 * seed that only shrinks stays whole, and the split of a touching pair whose cores joined gives two objects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectedComponents } from '../../src/geometry/components.js';
import { cutNecks } from '../../src/instances/seed-necks.js';
import { splitByCores } from '../../src/instances/split-by-cores.js';

/** A 0/1 mask from rows of characters: '#' set. */
function maskOf(rows: string[]): { mask: Uint8Array; width: number; height: number } {
  return { mask: Uint8Array.from(rows.join(''), (c) => (c === '#' ? 1 : 0)), width: rows[0].length, height: rows.length };
}
const groups = (m: Uint8Array, width: number, height: number) => connectedComponents({ width, height, channels: 1, data: m });

// Two 4 x 4 cores joined by a one-pixel bridge, and a lone 5 x 5 core.
const bridged = maskOf([
  '...............',
  '.####.####.....',
  '.#########.....',
  '.####.####.....',
  '.####.####.....',
  '...............',
  '..........#####',
  '..........#####',
  '..........#####',
  '..........#####',
  '..........#####',
]);

describe('seed necks', () => {
  it('cut a bridged pair of seeds into its two pieces and leave a lone seed whole', () => {
    const { mask, width, height } = bridged;
    assert.equal(groups(mask, width, height).count, 2);
    const cut = cutNecks(mask, width, height, { depth: 2, minPiece: 4 });
    const after = groups(cut, width, height);
    assert.equal(after.count, 3, 'the bridged seed is two, the lone one stays one');
    // the lone square is untouched; the pair lost only what erosion separated (the bridge and the eroded rings)
    for (let y = 6; y < 11; y++) for (let x = 10; x < 15; x++) assert.equal(cut[y * width + x], 1);
    assert.equal(cut[2 * width + 5], 0, 'the bridge pixel is gone');
    // nothing is cut without enough depth or with pieces too small to count
    assert.deepEqual(cutNecks(mask, width, height, { depth: 0, minPiece: 4 }), mask);
    // (one erosion leaves pieces of 5 px: the 2 x 2 centres and the pixel beside the bridge)
    assert.equal(groups(cutNecks(mask, width, height, { depth: 2, minPiece: 6 }), width, height).count, 2);
  });

  it('a touching pair whose cores joined comes out as two objects, and the objects cover the foreground', () => {
    const { mask: core, width, height } = bridged;
    // The foreground: the cores grown by a pixel (the two nuclei and the lone one).
    const fg = new Uint8Array(core.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let any = 0;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) any |= core[Math.min(height - 1, Math.max(0, y + dy)) * width + Math.min(width - 1, Math.max(0, x + dx))];
        fg[y * width + x] = any;
      }
    }
    const joined = splitByCores(fg, core, width, height, { minSize: 0, minCorePixels: 1, necks: { depth: 0, minPiece: 4 } });
    const apart = splitByCores(fg, core, width, height, { minSize: 0, minCorePixels: 1, necks: { depth: 2, minPiece: 4 } });
    // The grown foreground joins all three into one component: without the cut its two seeds make two objects.
    assert.equal(joined.count, 2);
    assert.equal(apart.count, 3);
    for (let i = 0; i < fg.length; i++) assert.equal(apart.data[i] > 0, fg[i] === 1);
  });
});
