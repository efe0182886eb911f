import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyAugmentation, augment, drawAugmentation } from '../../src/train/augment.js';
import type { Mask, Raster } from '../../src/geometry/raster.js';
import { seededRng } from '../../src/random.js';

function blobs(w: number, h: number): Mask<Uint8Array> {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if ((x - 20) ** 2 + (y - 15) ** 2 < 64 || (x > 40 && x < 55 && y > 30 && y < 44)) data[y * w + x] = 1;
    }
  }
  return { width: w, height: h, channels: 1, data };
}

const asImage = (m: Mask<Uint8Array>, scale = 1): Raster<Uint8Array> => ({ ...m, data: m.data.map((v) => v * scale) });

describe('augmentation', () => {
  it('draws the affine with probability 0.5 and the flip with probability 0.3, within the limits', () => {
    const rng = seededRng(5);
    let affine = 0;
    let flip = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const p = drawAugmentation(rng);
      if (p.affine) {
        affine++;
        assert.ok(Math.abs(p.affine.angle) <= 15 && Math.abs(p.affine.scale - 1) <= 0.1);
        assert.ok(Math.abs(p.affine.dx) <= 0.0625 && Math.abs(p.affine.dy) <= 0.0625);
      }
      if (p.flip) flip++;
    }
    assert.ok(Math.abs(affine / n - 0.5) < 0.03, `affine ${affine / n}`);
    assert.ok(Math.abs(flip / n - 0.3) < 0.03, `flip ${flip / n}`);
  });

  it('moves image and mask identically: an image equal to its mask stays equal to it', () => {
    const mask = blobs(64, 48);
    for (const border of ['reflect101', 'constant'] as const) {
      for (let seed = 0; seed < 30; seed++) {
        const nearest = augment(asImage(mask), mask, seededRng(seed), { border, imageInterpolation: 'nearest', affineProbability: 1 });
        assert.deepEqual(nearest.image.data, nearest.mask.data, `seed ${seed}, ${border}`);
        // Bilinear on the image: it may only differ from the nearest mask along edges.
        const bilinear = augment(asImage(mask, 255), mask, seededRng(seed), { border, affineProbability: 1 });
        let differ = 0;
        bilinear.image.data.forEach((v, i) => (differ += (v >= 128 ? 1 : 0) !== bilinear.mask.data[i] ? 1 : 0));
        assert.ok(differ <= 0.02 * mask.data.length, `seed ${seed}: ${differ} pixels differ`);
      }
    }
  });

  it('flips exactly and rotates counter-clockwise as OpenCV, with the chosen border', () => {
    const img: Raster<Uint8Array> = { width: 3, height: 3, channels: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]) };
    const m = { ...img, channels: 1 as const };
    const flipped = applyAugmentation(img, m, { affine: null, flip: true });
    assert.deepEqual([...flipped.image.data], [3, 2, 1, 6, 5, 4, 9, 8, 7]);
    const rot = applyAugmentation(img, m, { affine: { angle: 90, scale: 1, dx: 0, dy: 0 }, flip: false });
    assert.deepEqual([...rot.image.data], [3, 6, 9, 2, 5, 8, 1, 4, 7]);
    assert.deepEqual([...rot.mask.data], [3, 6, 9, 2, 5, 8, 1, 4, 7]);
    const shiftParams = { affine: { angle: 0, scale: 1, dx: 1 / 3, dy: 0 }, flip: false };
    assert.deepEqual([...applyAugmentation(img, m, shiftParams, { border: 'constant' }).mask.data], [0, 1, 2, 0, 4, 5, 0, 7, 8]);
    assert.deepEqual([...applyAugmentation(img, m, shiftParams, { border: 'reflect101' }).mask.data], [2, 1, 2, 5, 4, 5, 8, 7, 8]);
  });

  it('keeps float images float and returns the input untouched when nothing was drawn', () => {
    const mask = blobs(16, 16);
    const f: Raster<Float32Array> = { ...mask, data: Float32Array.from(mask.data, (v) => v - 0.1) };
    const out = applyAugmentation(f, mask, { affine: { angle: 10, scale: 1.05, dx: 0.01, dy: -0.02 }, flip: true });
    assert.ok(out.image.data instanceof Float32Array);
    const same = applyAugmentation(f, mask, { affine: null, flip: false });
    assert.equal(same.image, f);
  });
});
