/**
 * The viewer's pure parts, in Node: which image region a tile shows, the mask overlay and box tiles drawn from
 * results, the virtualised table's rows and the progress line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FineResults } from '../../src/pipeline/fine-results.js';
import { renderDownscaled } from '../../src/pipeline/fine-results.js';
import { CropBoxes } from '../../web/src/ui/box-tiles.js';
import { formatDuration, progressLine, secondsLeft } from '../../web/src/ui/progress-text.js';
import { tileGeometry } from '../../web/src/ui/tile-geometry.js';
import { visibleRows } from '../../web/src/ui/visible-rows.js';
import { overlayTile } from '../../web/src/worker/overlay-tile.js';

describe('viewer tiles', () => {
  it('cover every level of the image exactly once, finer than the image on supersampled levels', () => {
    for (const [width, height, supersample] of [[1000, 700, 1], [1000, 700, 8], [12_000, 9000, 1]]) {
      const maxLevel = Math.ceil(Math.log2(Math.max(width, height) * supersample));
      for (const level of [0, maxLevel - 3, maxLevel]) {
        let area = 0;
        let tiles = 0;
        for (let y = 0; ; y++) {
          const first = tileGeometry(width, height, level, 0, y, 256, supersample);
          if (first.region.top >= height) break;
          for (let x = 0; ; x++) {
            const t = tileGeometry(width, height, level, x, y, 256, supersample);
            if (t.region.left >= width) break;
            area += t.region.width * t.region.height;
            tiles++;
            assert.ok(t.width <= 256 && t.height <= 256);
          }
        }
        assert.equal(area, width * height, `${width} x ${height} x ${supersample}, level ${level}: ${tiles} tiles`);
      }
      const finest = tileGeometry(width, height, maxLevel, 0, 0, 256, supersample);
      assert.equal(finest.width / finest.region.width, supersample, 'the finest level has `supersample` tile pixels per image pixel');
    }
  });

  it('draw the mask as renderDownscaled renders it, outlined inside, with no outline along tile seams', () => {
    // One 40 x 20 block of foreground across the seam x = 64 of two 64-pixel tiles.
    const fine: FineResults = { size: 1, mode: 'nearest', results: [{ box: { left: 44, top: 10, width: 40, height: 20 }, map: Uint8Array.of(255) }] };
    const left = overlayTile(fine, { left: 0, top: 0, width: 64, height: 64 }, 64, 64);
    const alpha = (t: Uint8ClampedArray, x: number, y: number) => t[(y * 64 + x) * 4 + 3];
    const mask = renderDownscaled(fine, { left: 0, top: 0, width: 64, height: 64 }, 64, 64).data;
    for (let i = 0; i < 64 * 64; i++) assert.equal(left[i * 4 + 3] > 0, mask[i] === 1, `pixel ${i}`);
    assert.equal(alpha(left, 44, 20), 255, 'the left edge is outlined');
    assert.equal(alpha(left, 45, 20), 255, 'two pixels wide');
    assert.ok(alpha(left, 46, 20) < 255, 'and filled inside');
    assert.ok(alpha(left, 63, 20) < 255, 'no outline at the seam');
    const right = overlayTile(fine, { left: 64, top: 0, width: 64, height: 64 }, 64, 64);
    assert.ok(alpha(right, 0, 20) < 255, 'no outline at the seam, on the other side either');
    assert.equal(alpha(right, 19, 20), 255, 'the right edge is outlined');
    assert.equal(overlayTile(undefined, { left: 0, top: 0, width: 64, height: 64 }, 8, 8).every((v) => v === 0), true, 'no result: transparent');
  });

  it('draw the crop boxes they meet', async () => {
    const boxes = new CropBoxes();
    boxes.add(Int32Array.of(10, 10, 20, 20, 500, 500, 10, 10));
    const tile = await boxes.render({ region: { left: 0, top: 0, width: 64, height: 64 }, width: 64, height: 64 });
    const on = (x: number, y: number) => tile[(y * 64 + x) * 4 + 3] === 255;
    assert.ok(on(10, 10) && on(29, 29) && on(10, 20) && on(20, 29), 'the edges of the first box');
    assert.ok(!on(15, 15) && !on(40, 40), 'not inside or outside it');
    assert.equal(boxes.count, 2);
  });
});

describe('objects table and progress', () => {
  it('puts only the rows in view (and a few around them) into the page, even for 100,000 objects', () => {
    assert.deepEqual(visibleRows(0, 220, 22, 100_000), { first: 0, last: 18 });
    const { first, last } = visibleRows(22 * 50_000, 220, 22, 100_000);
    assert.ok(first <= 50_000 && last >= 50_010 && last - first < 40);
    assert.deepEqual(visibleRows(22 * 99_995, 220, 22, 100_000).last, 100_000);
    assert.deepEqual(visibleRows(0, 220, 22, 0), { first: 0, last: 0 });
  });

  it('says which pass, how far, and about how long is left once there is a pace', () => {
    assert.equal(secondsLeft(10, 1000, 1), undefined, 'too early');
    assert.equal(secondsLeft(250, 1000, 10), 30);
    assert.equal(formatDuration(30), '30 s');
    assert.equal(formatDuration(600), '10 min');
    assert.equal(progressLine({ stage: 'rough', done: 2080, total: 3969 }, 5), 'Rough pass: tile 2,080 of 3,969, about 5 s left in this pass…');
    assert.equal(progressLine({ stage: 'fine', done: 3, total: 473 }, 0.5), 'Fine pass: crop 3 of 473…');
  });
});
