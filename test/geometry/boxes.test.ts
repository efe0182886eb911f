import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { expandBox, jitterBox, paddingForSize } from '../../src/geometry/boxes.js';
import { seededRng } from '../../src/random.js';
import { boxFromArray, boxToArray, loadFixture } from '../support/fixtures.js';

interface ExpandGolden {
  box: number[];
  size: [number, number];
  padding: number;
  expanded: number[];
  kept: boolean;
}

const boxAndImage = fc
  .record({ W: fc.integer({ min: 1, max: 600 }), H: fc.integer({ min: 1, max: 600 }), padding: fc.integer({ min: 0, max: 64 }) })
  .chain(({ W, H, padding }) =>
    fc.record({
      W: fc.constant(W),
      H: fc.constant(H),
      padding: fc.constant(padding),
      left: fc.integer({ min: 0, max: W - 1 }),
      top: fc.integer({ min: 0, max: H - 1 }),
      w: fc.integer({ min: 1, max: W }),
      h: fc.integer({ min: 1, max: H }),
    }),
  )
  .map(({ W, H, padding, left, top, w, h }) => ({
    image: { width: W, height: H },
    padding,
    box: { left, top, width: Math.min(w, W - left), height: Math.min(h, H - top) },
  }));

describe('expandBox', () => {
  it('matches all 300 reference cases, kept or dropped', () => {
    const golden = loadFixture<ExpandGolden[]>('golden_expand_bbox.json.gz');
    assert.equal(golden.length, 300);
    let dropped = 0;
    for (const c of golden) {
      const image = { height: c.size[0], width: c.size[1] };
      const out = expandBox(boxFromArray(c.box), image, c.padding, 'reference');
      assert.equal(out !== null, c.kept, JSON.stringify(c));
      if (out) assert.deepEqual(boxToArray(out), c.expanded, JSON.stringify(c));
      else dropped++;
    }
    assert.ok(dropped > 50, 'the goldens exercise the drop rule');
  });

  it('keeps boxes inside the image and square whenever the padded square fits', () => {
    fc.assert(
      fc.property(boxAndImage, ({ image, padding, box }) => {
        const side = Math.max(box.width, box.height) + 2 * padding;
        for (const policy of ['reference', 'clip'] as const) {
          const b = expandBox(box, image, padding, policy);
          const fits = side <= image.width && side <= image.height;
          if (b === null) {
            assert.ok(policy === 'clip' ? Math.min(image.width, side) < 5 || Math.min(image.height, side) < 5 : !fits || side < 5);
            continue;
          }
          assert.ok(b.left >= 0 && b.top >= 0 && b.left + b.width <= image.width && b.top + b.height <= image.height, JSON.stringify({ b, image }));
          if (fits) assert.equal(b.width, b.height);
          // the expanded box contains the component
          assert.ok(b.left <= box.left && b.top <= box.top);
          assert.ok(b.left + b.width >= box.left + box.width && b.top + b.height >= box.top + box.height);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('clip keeps what reference drops, as the whole image span', () => {
    const image = { width: 100, height: 60 };
    const big = { left: 10, top: 5, width: 70, height: 50 };
    assert.equal(expandBox(big, image, 8, 'reference'), null);
    assert.deepEqual(expandBox(big, image, 8, 'clip'), { left: 10 - 8, top: 0, width: 86, height: 60 });
  });

  it('names a bad policy or padding', () => {
    const box = { left: 0, top: 0, width: 3, height: 3 };
    assert.throws(() => expandBox(box, { width: 9, height: 9 }, 1, 'nope' as never), /dropPolicy: unknown policy 'nope'/);
    assert.throws(() => expandBox(box, { width: 9, height: 9 }, -1), /padding: must be a non-negative integer/);
    assert.equal(paddingForSize(64), 8);
    assert.throws(() => paddingForSize(0), /size: must be a positive integer/);
  });
});

describe('jitterBox', () => {
  it('moves each of x, y, w, h by an integer in [-16, 16], reproducibly from the seed, covering the range', () => {
    const box = { left: 100, top: 50, width: 20, height: 30 };
    const a = seededRng(7);
    const b = seededRng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const j = jitterBox(box, a);
      assert.deepEqual(jitterBox(box, b), j);
      const d = [j.left - 100, j.top - 50, j.width - 20, j.height - 30];
      for (const v of d) {
        assert.ok(Number.isInteger(v) && v >= -16 && v <= 16);
        seen.add(v);
      }
    }
    assert.equal(seen.size, 33);
    assert.notDeepEqual(jitterBox(box, seededRng(8)), jitterBox(box, seededRng(7)));
  });
});
