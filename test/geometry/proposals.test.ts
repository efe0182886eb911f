import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { boxesOfMask, proposeBoxes } from '../../src/geometry/proposals.js';
import type { Mask } from '../../src/geometry/raster.js';
import { resizeNearest } from '../../src/geometry/resize.js';
import { seededRng } from '../../src/random.js';
import { boxToArray, decodeRle, loadFixture } from '../support/fixtures.js';

interface GetBboxesGolden {
  size: [number, number];
  padding: number;
  maskRle: number[];
  boxes: number[][];
}

/** The reference's way, literally: upsample the rough map to the image, then label at full resolution. */
function referenceProposals(rough: Mask, width: number, height: number, padding: number, dropPolicy: 'reference' | 'clip') {
  return boxesOfMask(resizeNearest(rough, width, height) as Mask, { padding, dropPolicy });
}

const roughAndImage = fc
  .record({
    S: fc.integer({ min: 2, max: 40 }),
    density: fc.double({ min: 0.02, max: 0.5, noNaN: true }),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    dw: fc.integer({ min: -20, max: 300 }),
    dh: fc.integer({ min: -20, max: 300 }),
    dropPolicy: fc.constantFrom('reference' as const, 'clip' as const),
  })
  .map(({ S, density, seed, dw, dh, dropPolicy }) => {
    const rng = seededRng(seed);
    const data = Float32Array.from({ length: S * S }, () => (rng.int(0, 999) < density * 1000 ? rng.int(500, 999) / 1000 : rng.int(0, 499) / 1000));
    return { rough: { width: S, height: S, channels: 1 as const, data }, width: Math.max(1, S + dw), height: Math.max(1, S + dh), padding: Math.floor(S / 8), dropPolicy };
  });

describe('boxesOfMask (the reference get_bboxes)', () => {
  it('matches all 80 reference cases, in order', () => {
    const golden = loadFixture<GetBboxesGolden[]>('golden_get_bboxes.json.gz');
    for (const c of golden) {
      const [H, W] = c.size;
      const boxes = boxesOfMask(decodeRle(c.maskRle, H, W), { padding: c.padding });
      assert.deepEqual(boxes.map(boxToArray), c.boxes, `case ${c.size} padding ${c.padding}`);
    }
  });

  it('jitters reproducibly from the seed', () => {
    const golden = loadFixture<GetBboxesGolden[]>('golden_get_bboxes.json.gz');
    const c = golden.find((g) => g.boxes.length > 10)!;
    const m = decodeRle(c.maskRle, c.size[0], c.size[1]);
    const a = boxesOfMask(m, { padding: c.padding, jitter: { rng: seededRng(3) } });
    const b = boxesOfMask(m, { padding: c.padding, jitter: { rng: seededRng(3) } });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.map(boxToArray), c.boxes);
  });
});

describe('proposeBoxes', () => {
  it('labels the small map and scales, giving exactly the boxes of the upsample-then-label way', () => {
    let upsampled = 0;
    let downsampled = 0;
    fc.assert(
      fc.property(roughAndImage, ({ rough, width, height, padding, dropPolicy }) => {
        if (width >= rough.width && height >= rough.height) upsampled++;
        else downsampled++;
        const ours = proposeBoxes(rough, { width, height }, { padding, dropPolicy });
        assert.deepEqual(ours, referenceProposals(rough, width, height, padding, dropPolicy));
      }),
      { numRuns: 400 },
    );
    // both branches (shortcut and literal) were exercised
    assert.ok(upsampled > 100 && downsampled > 10, `${upsampled} / ${downsampled}`);
  });
});
