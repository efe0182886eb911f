import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedSample, Sample } from '../../src/datasets/dataset.js';
import { augment, augmentBox, drawAugmentation } from '../../src/train/augment.js';
import { epochBatches, epochOrder, finePair, roughPair } from '../../src/train/sampler.js';
import { paddingForSize, squareAndPad } from '../../src/geometry/boxes.js';
import { cropResize } from '../../src/geometry/crop.js';
import { boxesOfMask } from '../../src/geometry/proposals.js';
import { resizeNearest } from '../../src/geometry/resize.js';
import type { Box, Mask, Raster } from '../../src/geometry/raster.js';
import { deriveSeed, seededRng } from '../../src/random.js';

const W = 160;
const H = 120;

/** An RGB image whose pixel values encode their own position, and a mask of the given rectangles. */
function sample(rects: Box[]): LoadedSample {
  const image: Raster<Uint8Array> = { width: W, height: H, channels: 3, data: new Uint8Array(W * H * 3) };
  const mask: Mask<Uint8Array> = { width: W, height: H, channels: 1, data: new Uint8Array(W * H) };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      image.data.set([x, y, 7], (y * W + x) * 3);
      if (rects.some((r) => x >= r.left && x < r.left + r.width && y >= r.top && y < r.top + r.height)) mask.data[y * W + x] = 1;
    }
  }
  return { image, mask };
}

const contains = (outer: Box, inner: Box) =>
  outer.left <= inner.left && outer.top <= inner.top &&
  outer.left + outer.width >= inner.left + inner.width && outer.top + outer.height >= inner.top + inner.height;

/** Whether some jitter d in [-j, j]^4 of `component` gives `box` (x and y checked apart: they share only the side). */
function reachableWithJitter(box: Box, component: Box, j: number, padding: number): boolean {
  const image = { width: W, height: H };
  for (let dw = -j; dw <= j; dw++) {
    for (let dh = -j; dh <= j; dh++) {
      const w = component.width + dw;
      const h = component.height + dh;
      let xOk = false;
      let yOk = false;
      for (let d = -j; d <= j && !(xOk && yOk); d++) {
        const bx = squareAndPad({ left: component.left + d, top: component.top, width: w, height: h }, image, padding);
        const by = squareAndPad({ left: component.left, top: component.top + d, width: w, height: h }, image, padding);
        xOk ||= bx.left === box.left && bx.width === box.width;
        yOk ||= by.top === box.top && by.height === box.height;
      }
      if (xOk && yOk) return true;
    }
  }
  return false;
}

describe('fine sampler', () => {
  const components: Box[] = [
    { left: 20, top: 30, width: 18, height: 10 },
    { left: 100, top: 60, width: 25, height: 30 },
  ];
  const loaded = sample(components);
  const S = 64;

  it('without jitter, crops a whole component with S // 8 padding and shows exactly its pixels', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 40; seed++) {
      const p = finePair(loaded, seededRng(seed), { size: S, augment: false, jitter: 0 });
      assert.ok(p.box);
      const k = components.findIndex((c) => contains(p.box!, c));
      assert.ok(k >= 0, `crop ${JSON.stringify(p.box)} contains a component`);
      seen.add(k);
      const c = components[k];
      assert.equal(p.box.width, Math.max(c.width, c.height) + 2 * (S / 8));
      assert.equal(p.box.width, p.box.height);
      // The crop is upsampled (nearest), so every pixel of the component appears: read positions back from the input.
      const covered = new Set<string>();
      for (let i = 0; i < S * S; i++) if (p.mask.data[i]) covered.add(`${p.input.data[i * 3]},${p.input.data[i * 3 + 1]}`);
      assert.equal(covered.size, c.width * c.height);
      assert.deepEqual([p.input.width, p.input.height, p.input.channels, p.mask.width], [S, S, 3, S]);
    }
    assert.deepEqual([...seen].sort(), [0, 1], 'both components get picked');
  });

  it('with jitter 16, every crop is a jitter of a component within +-16 on x, y, w and h, and the jitter varies', () => {
    const boxes = new Set<string>();
    for (let seed = 0; seed < 25; seed++) {
      const p = finePair(loaded, seededRng(seed), { size: S, augment: false, jitter: 16 });
      assert.ok(p.box);
      assert.ok(components.some((c) => reachableWithJitter(p.box!, c, 16, S / 8)), `box ${JSON.stringify(p.box)}`);
      boxes.add(JSON.stringify(p.box));
      // The mask crop is the mask under the box: it holds some of the component and nothing else.
      assert.ok(p.mask.data.includes(1));
    }
    assert.ok(boxes.size > 10, `${boxes.size} distinct crops`);
    const far = { left: components[0].left + 40, top: components[0].top, width: 34, height: 34 };
    assert.ok(!components.some((c) => reachableWithJitter(far, c, 16, S / 8)), 'the check can fail');
  });

  it('--max-crop below S: a larger box is learned as a max-crop-wide window of it, enlarged to S x S', () => {
    const big = { left: 50, top: 30, width: 60, height: 50 };
    const sides = new Set<number>();
    for (let seed = 0; seed < 20; seed++) {
      const p = finePair(sample([big]), seededRng(seed), { size: S, augment: false, jitter: 0, maxCrop: 32 });
      assert.ok(p.box);
      sides.add(p.box.width).add(p.box.height);
      assert.ok(p.box.left >= 0 && p.box.top >= 0 && p.box.left + 32 <= W && p.box.top + 32 <= H, JSON.stringify(p.box));
      // Enlarged 2x by nearest: the input's pixel (2i, 2j) reads the window's pixel (i, j).
      assert.deepEqual([p.input.data[(10 * S + 6) * 3], p.input.data[(10 * S + 6) * 3 + 1]], [p.box.left + 3, p.box.top + 5]);
      assert.deepEqual([p.input.width, p.mask.width], [S, S]);
    }
    assert.deepEqual([...sides], [32]);
    const atS = finePair(sample([big]), seededRng(3), { size: S, augment: false, jitter: 0, maxCrop: 64 });
    assert.deepEqual([atS.box?.width, atS.box?.height], [S, S], 'at or above S the windows stay S x S at full resolution');
  });

  it('uses the whole image when there is no component, or when the reference drops every box', () => {
    const empty = sample([]);
    const p = finePair(empty, seededRng(1), { size: 32, augment: false });
    assert.equal(p.box, null);
    assert.equal(p.input.data[(31 * 32 + 31) * 3], Math.floor((31 * W) / 32), 'whole image, nearest');
    const huge = sample([{ left: 0, top: 0, width: 150, height: 110 }]);
    assert.equal(finePair(huge, seededRng(1), { size: 64, augment: false, jitter: 0 }).box, null);
    assert.ok(finePair(huge, seededRng(1), { size: 64, augment: false, jitter: 0, dropPolicy: 'clip' }).box);
  });

  it('reference crops: the box made on the un-augmented mask and carried through the augmentation contains the augmented object', () => {
    const object = { left: 60, top: 45, width: 30, height: 22 };
    const single = sample([object]);
    const augmentation = { affineProbability: 1, flipProbability: 0.5 };
    let grown = 0;
    // Hashed seeds, as the sampler derives them: small consecutive seeds start seededRng with nearly equal draws.
    for (let i = 0; i < 60; i++) {
      const seed = deriveSeed(3, 0, i);
      const p = finePair(single, seededRng(seed), { size: S, jitter: 0, augment: augmentation });
      assert.ok(p.box, `seed ${seed}: a box`);
      // The same draw, applied to the whole mask: every augmented object pixel lies inside the crop box.
      const { mask } = augment(single.image as Raster<Uint8Array>, single.mask, seededRng(seed), augmentation);
      let inside = 0;
      let total = 0;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          if (!mask.data[y * W + x]) continue;
          total++;
          if (contains(p.box, { left: x, top: y, width: 1, height: 1 })) inside++;
        }
      }
      assert.ok(total > 0);
      assert.equal(inside, total, `seed ${seed}: ${total - inside} of ${total} object pixels outside ${JSON.stringify(p.box)}`);
      // A rotation grows the box beyond the square padded box of the un-augmented object (30 + 2 x 8 = 46 px at
      // S = 64) scaled by at most 1.1.
      if (p.box.width > 46 * 1.1 + 2 || p.box.height > 46 * 1.1 + 2) grown++;
    }
    assert.ok(grown > 10, `${grown} boxes grown by rotation`);
  });

  it('reference crops: boxes that shrink under 10 px^2 after the augmentation are left out', () => {
    const params = drawAugmentation(seededRng(0), { affineProbability: 0, flipProbability: 0 });
    assert.deepEqual(augmentBox({ left: 3, top: 4, width: 5, height: 6 }, params, W, H), { left: 3, top: 4, width: 5, height: 6 });
    assert.equal(augmentBox({ left: W - 3, top: 4, width: 3, height: 3 }, params, W, H), null, '9 px^2');
    const flip = { affine: null, flip: true };
    assert.deepEqual(augmentBox({ left: 0, top: 4, width: 10, height: 6 }, flip, W, H), { left: W - 10, top: 4, width: 10, height: 6 });
  });

  it('maxCrop: a box longer than it is learned as a random S x S window inside it at full resolution; smaller boxes as before', () => {
    const small = 16;
    const lefts = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      // The 25 x 30 component's padded box (about 34 px) is over 20; the 18 x 10 one's (about 20) is not over 24.
      const p = finePair(loaded, seededRng(seed), { size: small, augment: false, jitter: 0, maxCrop: 24 });
      const without = finePair(loaded, seededRng(seed), { size: small, augment: false, jitter: 0 });
      assert.ok(p.box && without.box);
      if (Math.max(without.box.width, without.box.height) <= 24) {
        assert.deepEqual(p.box, without.box);
        continue;
      }
      assert.equal(p.box.width, small);
      assert.equal(p.box.height, small);
      assert.ok(contains(without.box, p.box), `${JSON.stringify(p.box)} inside ${JSON.stringify(without.box)}`);
      lefts.add(p.box.left);
      // Full resolution: the input's pixels are the image's own, one for one (the image encodes x, y).
      for (const [i, j] of [[0, 0], [small - 1, small - 1], [5, 9]]) {
        assert.deepEqual([...p.input.data.subarray((j * small + i) * 3, (j * small + i) * 3 + 2)], [p.box.left + i, p.box.top + j]);
      }
    }
    assert.ok(lefts.size > 3, `the window moves: ${[...lefts].join(', ')}`);
  });

  it('finds boxes on the augmented mask (fineCrops: augmented-mask): the crop still covers a component after a flip', () => {
    // Seeds whose draw flips: the component then sits mirrored, and the crop must follow it.
    let flips = 0;
    for (let seed = 0; seed < 40; seed++) {
      const p = finePair(loaded, seededRng(seed), { size: S, jitter: 0, augment: { affineProbability: 0, flipProbability: 1 }, fineCrops: 'augmented-mask' });
      const mirrored = components.map((c) => ({ ...c, left: W - c.left - c.width }));
      assert.ok(mirrored.some((c) => contains(p.box!, c)));
      flips++;
    }
    assert.equal(flips, 40);
  });
});

describe('rough sampler and batches', () => {
  it('resizes the whole image (nearest by default, bilinear on request) to S x S', () => {
    const loaded = sample([{ left: 0, top: 0, width: 80, height: 60 }]);
    const p = roughPair(loaded, seededRng(0), { size: 32, augment: false });
    assert.equal(p.input.data[(31 * 32 + 31) * 3], 155, 'floor(31 * 160 / 32)');
    assert.equal(p.mask.data.reduce((a, b) => a + b, 0), 16 * 16);
    const b = roughPair(loaded, seededRng(0), { size: 32, augment: false, resize: 'bilinear' });
    assert.equal(b.input.data[0], 2);
  });

  it('at a fixed scale, takes S x S windows of the image downscaled as the predict pipeline downscales it', () => {
    const rect = { left: 40, top: 30, width: 50, height: 40 };
    const loaded = sample([rect]);
    const S = 32;
    const offsets = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      // 160 x 120 downscaled 2.5x is 64 x 48: a window anywhere inside it.
      const p = roughPair(loaded, seededRng(seed), { size: S, augment: false, roughScale: { factorX: 2.5, factorY: 2.5 } });
      const at = (i: number, j: number, c: number) => p.input.data[(j * S + i) * 3 + c];
      const ox = Math.round(at(0, 0, 0) / 2.5);
      const oy = Math.round(at(0, 0, 1) / 2.5);
      offsets.add(`${ox},${oy}`);
      assert.ok(ox >= 0 && ox <= 64 - S && oy >= 0 && oy <= 48 - S);
      for (let j = 0; j < S; j++) {
        for (let i = 0; i < S; i++) {
          const x = Math.floor((ox + i) * 2.5);
          const y = Math.floor((oy + j) * 2.5);
          assert.deepEqual([at(i, j, 0), at(i, j, 1), at(i, j, 2)], [x, y, 7]);
          const inside = x >= rect.left && x < rect.left + rect.width && y >= rect.top && y < rect.top + rect.height;
          assert.equal(p.mask.data[j * S + i], inside ? 1 : 0, 'the mask is read at the same pixels');
        }
      }
    }
    assert.ok(offsets.size > 10, 'windows at many offsets');
    // Downscaled 8x the image is 20 x 15, smaller than the window: it lies whole inside, zeros around it.
    const small = roughPair(loaded, seededRng(3), { size: S, augment: false, roughScale: { factorX: 8, factorY: 8 } });
    let imagePixels = 0;
    for (let k = 0; k < S * S; k++) if (small.input.data[k * 3 + 2] === 7) imagePixels++;
    assert.equal(imagePixels, 20 * 15);
  });

  it('scale jitter draws each training window at its own scale within 2^+-j of the fixed one, and never in validation', () => {
    const loaded = sample([{ left: 40, top: 30, width: 50, height: 40 }]);
    const S = 32;
    const still = { affineProbability: 0, flipProbability: 0 };
    const base = { size: S, roughScale: { factorX: 2, factorY: 2 } };
    // Channel 0 holds x: the step between a window's first and last column is the scale it was read at.
    const scaleOf = (p: { input: Raster<Float32Array> }) => (p.input.data[(S - 1) * 3] - p.input.data[0]) / (S - 1);
    const scales: number[] = [];
    for (let seed = 0; seed < 40; seed++) {
      // Hashed seeds, as training draws them (xoroshiro's first outputs after a small seed are nearly constant).
      const p = roughPair(loaded, seededRng(deriveSeed(seed)), { ...base, augment: still, scaleJitter: 0.5 });
      const s = scaleOf(p);
      assert.ok(s >= 2 / Math.SQRT2 - 0.1 && s <= 2 * Math.SQRT2 + 0.1, `scale ${s} within 2 / sqrt 2 .. 2 sqrt 2`);
      assert.ok(Math.abs((p.input.data[(S - 1) * S * 3 + 1] - p.input.data[1]) / (S - 1) - s) < 0.1, 'the same scale down the rows');
      scales.push(s);
    }
    assert.ok(Math.min(...scales) < 1.7 && Math.max(...scales) > 2.3, `scales spread: ${Math.min(...scales)} .. ${Math.max(...scales)}`);
    for (let seed = 0; seed < 5; seed++) {
      assert.deepEqual(roughPair(loaded, seededRng(seed), { ...base, augment: false, scaleJitter: 0.5 }), roughPair(loaded, seededRng(seed), { ...base, augment: false }), 'validation windows are at the one scale');
      assert.deepEqual(roughPair(loaded, seededRng(seed), { ...base, scaleJitter: 0 }), roughPair(loaded, seededRng(seed), base), 'j = 0 draws nothing');
    }
  });

  it('colour jitter changes only the image, by a per-channel gain and bias, and leaves runs without it as they were', () => {
    const loaded = sample([{ left: 10, top: 10, width: 30, height: 20 }]);
    const plain = roughPair(loaded, seededRng(5), { size: 32 });
    const off = roughPair(loaded, seededRng(5), { size: 32, colorJitter: 0 });
    assert.deepEqual(off.input.data, plain.input.data, 'colorJitter 0 draws nothing');
    let changed = 0;
    for (let seed = 0; seed < 20; seed++) {
      const a = roughPair(loaded, seededRng(seed), { size: 32 });
      const b = roughPair(loaded, seededRng(seed), { size: 32, colorJitter: 0.2 });
      assert.deepEqual(b.mask.data, a.mask.data, 'the mask is untouched');
      if (b.input.data.some((v, i) => v !== a.input.data[i])) {
        changed++;
        // Per channel one affine map: pixels equal in a stay equal in b, and every value stays within 0..255.
        for (let c = 0; c < 3; c++) {
          const seen = new Map<number, number>();
          for (let i = c; i < a.input.data.length; i += 3) {
            const before = seen.get(a.input.data[i]);
            if (before !== undefined) assert.equal(b.input.data[i], before);
            else seen.set(a.input.data[i], b.input.data[i]);
          }
        }
        assert.ok(b.input.data.every((v) => v >= 0 && v <= 255));
      }
    }
    assert.ok(changed >= 10 && changed < 20, `applied with probability 0.8: ${changed} of 20`);
  });

  it('stain jitter changes only the image, is drawn only when asked for, and refuses gray images', () => {
    const loaded = sample([{ left: 10, top: 10, width: 30, height: 20 }]);
    for (let seed = 0; seed < 5; seed++) {
      const plain = roughPair(loaded, seededRng(seed), { size: 32 });
      assert.deepEqual(roughPair(loaded, seededRng(seed), { size: 32, stainJitter: 1 }), plain, 'a factor of 1 draws nothing');
      assert.deepEqual(roughPair(loaded, seededRng(seed), { size: 32, augment: false, stainJitter: 3 }), roughPair(loaded, seededRng(seed), { size: 32, augment: false }), 'validation samples are not recoloured');
    }
    let changed = 0;
    for (let seed = 0; seed < 20; seed++) {
      const a = roughPair(loaded, seededRng(seed), { size: 32 });
      const b = roughPair(loaded, seededRng(seed), { size: 32, stainJitter: 3 });
      assert.deepEqual(b.mask.data, a.mask.data, 'the mask is untouched');
      if (b.input.data.some((v, i) => Math.abs(v - a.input.data[i]) > 0.5)) changed++;
    }
    assert.ok(changed >= 10 && changed < 20, `applied with probability 0.8: ${changed} of 20`);
    const gray: LoadedSample = { image: { width: W, height: H, channels: 1, data: new Uint8Array(W * H) }, mask: loaded.mask };
    assert.throws(() => roughPair(gray, seededRng(1), { size: 32, stainJitter: 3 }), /--stain-jitter.*RGB/);
  });

  it('batch NHWC float32 arrays in a seeded order per epoch, reproducibly', async () => {
    const rects = [[], [{ left: 10, top: 10, width: 20, height: 20 }], [{ left: 50, top: 40, width: 9, height: 30 }]];
    const loaded = rects.map((r) => sample(r));
    const samples: Sample[] = loaded.map((_, i) => ({ kind: 'image', id: `s${i}`, group: `s${i}`, imagePath: `${i}`, maskPath: `${i}` }));
    const dataset = { load: async (s: Sample) => loaded[Number(s.imagePath)] };
    const collect = async (epoch: number, stage: 'rough' | 'fine') => {
      const out = [];
      for await (const b of epochBatches(dataset, samples, epoch, { stage, size: 32, batchSize: 2, seed: 11 })) out.push(b);
      return out;
    };
    for (const stage of ['rough', 'fine'] as const) {
      const a = await collect(0, stage);
      assert.deepEqual(a.map((b) => b.count), [2, 1]);
      assert.equal(a[0].inputs.length, 2 * 32 * 32 * 3);
      assert.equal(a[0].masks.length, 2 * 32 * 32);
      assert.ok(a[0].inputs instanceof Float32Array && a[0].masks instanceof Float32Array);
      assert.ok(a[0].masks.every((v) => v === 0 || v === 1));
      assert.deepEqual(await collect(0, stage), a, 'same seed and epoch, same batches');
    }
    const orders = new Set([0, 1, 2, 3, 4, 5].map((e) => epochOrder(3, 11, e).join()));
    assert.ok(orders.size > 1, 'the order changes between epochs');
    assert.deepEqual(epochOrder(3, 11, 4), epochOrder(3, 11, 4));
  });
});

describe('samplers compute only the pixels the network sees', () => {
  /** The straightforward way: augment the whole image and mask, then resize or crop to S x S. */
  function wholeImageWay(loaded: LoadedSample, seed: number, stage: 'rough' | 'fine' | 'fine-augmented-mask', S: number, policy: 'reference' | 'clip') {
    const rng = seededRng(seed);
    const { image, mask, params } = augment(loaded.image as Raster<Uint8Array>, loaded.mask, rng);
    if (stage === 'rough') return { input: [...resizeNearest(image, S, S).data], mask: [...resizeNearest(mask, S, S).data] };
    const boxOptions = { padding: paddingForSize(S), dropPolicy: policy, jitter: { rng, amount: 16 } };
    const boxes =
      stage === 'fine'
        ? boxesOfMask(loaded.mask, boxOptions).flatMap((b) => augmentBox(b, params, image.width, image.height) ?? [])
        : boxesOfMask(mask, boxOptions);
    if (boxes.length === 0) return { input: [...resizeNearest(image, S, S).data], mask: [...resizeNearest(mask, S, S).data] };
    const box = boxes[rng.int(0, boxes.length - 1)];
    return { input: [...cropResize(image, box, S, S).data], mask: [...cropResize(mask, box, S, S).data] };
  }

  it('gives the same pairs as augmenting the whole image first, for random images, sizes and draws', () => {
    const rng = seededRng(7);
    for (let trial = 0; trial < 60; trial++) {
      const w = rng.int(20, 90);
      const h = rng.int(20, 90);
      const image: Raster<Uint8Array> = { width: w, height: h, channels: 3, data: new Uint8Array(w * h * 3) };
      for (let i = 0; i < image.data.length; i++) image.data[i] = rng.int(0, 255);
      const mask: Mask<Uint8Array> = { width: w, height: h, channels: 1, data: new Uint8Array(w * h) };
      for (let k = 0; k < 3; k++) {
        const x0 = rng.int(0, w - 8);
        const y0 = rng.int(0, h - 8);
        for (let y = y0; y < y0 + rng.int(3, 8); y++) for (let x = x0; x < x0 + rng.int(3, 8); x++) mask.data[y * w + x] = 1;
      }
      const S = [16, 32, 48][trial % 3];
      const policy = trial % 2 ? 'clip' : 'reference';
      for (const stage of ['rough', 'fine', 'fine-augmented-mask'] as const) {
        const fineCrops = stage === 'fine-augmented-mask' ? 'augmented-mask' : 'reference';
        const pair = (stage === 'rough' ? roughPair : finePair)({ image, mask }, seededRng(trial), { size: S, dropPolicy: policy, fineCrops });
        const expected = wholeImageWay({ image, mask }, trial, stage, S, policy);
        assert.deepEqual([...pair.input.data], expected.input, `${stage} input, trial ${trial}`);
        assert.deepEqual([...pair.mask.data], expected.mask, `${stage} mask, trial ${trial}`);
      }
    }
  });
});
