/**
 * Rendering fine results in parts: the downscaled mask (a slide's overlay, a viewer tile) must be exactly the
 * full-resolution mask resized by nearest neighbour, and the baseline as fine results must be exactly the upsampled
 * rough mask, objects included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Box, Mask } from '../../src/geometry/raster.js';
import { resizeNearest } from '../../src/geometry/resize.js';
import { objectsOfMask } from '../../src/objects/objects-of-mask.js';
import { type FineResults, detectObjects, overlaySize, renderCores, renderDownscaled, renderRegion, roughResults } from '../../src/pipeline/fine-results.js';
import { upsampleRough } from '../../src/pipeline/segment-then-segment.js';
import { streamingSegmentThenSegment } from '../../src/pipeline/streaming-sts.js';
import { rasterImageSource } from '../../src/io/raster-image-source.js';
import type { SegmentationNetwork } from '../../src/types/network.js';
import { seededRng } from '../../src/random.js';

const W = 237;
const H = 181;
const S = 8;

/** Random boxes (some crossing the image's edges) with random blobby maps, and a random bound. */
function randomResults(seed: number, withBound: boolean): FineResults {
  const rng = seededRng(seed);
  const results = Array.from({ length: 40 }, () => {
    const side = rng.int(4, 60);
    const box = { left: rng.int(-10, W - 5), top: rng.int(-10, H - 5), width: side, height: side + rng.int(-3, 3) };
    const map = Uint8Array.from({ length: S * S }, () => (rng.int(0, 9) < 6 ? 255 : 0));
    return { box, map };
  }).sort((a, b) => a.box.top - b.box.top);
  const rough = { width: 60, height: 45, channels: 1 as const, data: Uint8Array.from({ length: 60 * 45 }, () => (rng.int(0, 9) < 7 ? 1 : 0)) };
  return { size: S, mode: 'nearest', results, ...(withBound ? { bound: { mask: rough, width: W, height: H } } : {}) };
}

const whole = (fine: FineResults) => renderRegion(fine, { left: 0, top: 0, width: W, height: H });
const cut = (m: Mask<Uint8Array>, b: Box): Mask<Uint8Array> => {
  const data = new Uint8Array(b.width * b.height);
  for (let y = 0; y < b.height; y++) data.set(m.data.subarray((b.top + y) * m.width + b.left, (b.top + y) * m.width + b.left + b.width), y * b.width);
  return { width: b.width, height: b.height, channels: 1, data };
};

describe('fine results rendered in parts', () => {
  it('renderDownscaled is the full-resolution mask resized by nearest neighbour, for the whole image and for tiles', () => {
    for (const [seed, bound] of [[1, false], [2, true], [3, true]] as const) {
      const fine = randomResults(seed, bound);
      const full = whole(fine);
      assert.ok(full.data.some((v) => v === 1), 'the test mask has foreground');
      for (const [w, h] of [[64, 49], [W, H], [500, 400], [17, 3]]) {
        const got = renderDownscaled(fine, { left: 0, top: 0, width: W, height: H }, w, h);
        assert.deepEqual(got.data, resizeNearest(full, w, h).data, `seed ${seed} ${w} x ${h}`);
      }
      // A viewer tile: a part of the image, reduced or enlarged.
      const tile = { left: 40, top: 33, width: 128, height: 96 };
      for (const [w, h] of [[32, 24], [256, 192]]) {
        assert.deepEqual(renderDownscaled(fine, tile, w, h).data, resizeNearest(cut(full, tile), w, h).data, `tile ${w} x ${h}`);
      }
    }
  });

  it("foreground fused centre-weighted (an instance pair's): a crop's lone yes at its border loses to the crop centred there, and parts render as the whole", () => {
    // Two 20-pixel boxes overlapping by 8 columns: the left one says foreground everywhere, the right one nowhere.
    const full = new Uint8Array(S * S).fill(255);
    const none = new Uint8Array(S * S);
    const results = [{ box: { left: 0, top: 0, width: 20, height: 20 }, map: full }, { box: { left: 12, top: 0, width: 20, height: 20 }, map: none }];
    const region = { left: 0, top: 0, width: 32, height: 20 };
    const union = renderRegion({ size: S, mode: 'nearest', results }, region);
    const centre = renderRegion({ size: S, mode: 'nearest', results, foreground: 'centre' }, region);
    const at = (m: Mask<Uint8Array>, x: number) => m.data[10 * 32 + x];
    assert.deepEqual([at(union, 5), at(union, 13), at(union, 18), at(union, 25)], [1, 1, 1, 0], 'the union: any crop that says yes');
    // Column 13 is near the left box's centre side of the overlap (its weight higher); column 18 near the right one's.
    assert.deepEqual([at(centre, 5), at(centre, 13), at(centre, 18), at(centre, 25)], [1, 1, 0, 0], 'centre-weighted: the crop centred nearer wins');
    for (const [seed, bound] of [[4, false], [5, true]] as const) {
      const fine: FineResults = { ...randomResults(seed, bound), foreground: 'centre' };
      const all = whole(fine);
      assert.notDeepEqual(all.data, whole(randomResults(seed, bound)).data, 'the fusion matters on these maps');
      assert.deepEqual(renderDownscaled(fine, { left: 0, top: 0, width: W, height: H }, W, H).data, all.data, 'row by row as the whole');
      const tile = { left: 40, top: 33, width: 128, height: 96 };
      assert.deepEqual(renderRegion(fine, tile).data, cut(all, tile).data, `seed ${seed}: a part as the whole`);
    }
  });

  it('object cores of overlapping crops: each pixel goes mostly to the crop centred nearest it (by majority, a lone yes wins)', () => {
    // Two 8 x 4 boxes overlapping in columns 4..7: A says core everywhere, B nowhere. A's weight there falls
    // 0.875, 0.625, 0.375, 0.125 (1 - |(2x + 1) / 8 - 1|) while B's rises 0.125 .. 0.875, so the weighted mean is
    // A's 255 x (0.875, 0.625, 0.375, 0.125): core up to column 5, the midpoint between the centres (4 and 8) at 6.
    const fine: FineResults = {
      size: 4,
      mode: 'nearest',
      results: [
        { box: { left: 0, top: 0, width: 8, height: 4 }, map: new Uint8Array(16).fill(255), core: new Uint8Array(16).fill(255) },
        { box: { left: 4, top: 0, width: 8, height: 4 }, map: new Uint8Array(16).fill(255), core: new Uint8Array(16) },
      ],
    };
    const region = { left: 0, top: 0, width: 12, height: 4 };
    const row = (m: Uint8Array | undefined) => Array.from(m!.subarray(0, 12)).join('');
    assert.equal(row(renderCores(fine, region)), '111111000000');
    assert.equal(row(renderCores(fine, region, undefined, { coreVote: 'majority' })), '111111110000');
    assert.equal(row(renderCores(fine, region, undefined, { coreVote: 'centre', coreThreshold: 0.7 })), '111110000000');
    assert.equal(renderCores({ ...fine, results: fine.results.map(({ box, map }) => ({ box, map })) }, region), undefined);
  });

  it('overlaySize keeps the aspect ratio and never enlarges', () => {
    assert.deepEqual(overlaySize(40_000, 20_000), { width: 2048, height: 1024 });
    assert.deepEqual(overlaySize(696, 520), { width: 696, height: 520 });
  });

  it('roughResults renders, counts and outlines exactly the upsampled rough mask', () => {
    const rng = seededRng(7);
    for (const [rw, rh, w, h] of [[40, 30, 237, 181], [64, 64, 64, 64], [64, 64, 50, 70]]) {
      const rough = { width: rw, height: rh, channels: 1 as const, data: Uint8Array.from({ length: rw * rh }, () => (rng.int(0, 9) < 3 ? 1 : 0)) };
      const baseline = roughResults(rough, w, h);
      const want = upsampleRough(rough, w, h);
      assert.deepEqual(renderRegion(baseline, { left: 0, top: 0, width: w, height: h }).data, want.data, `${rw} x ${rh} -> ${w} x ${h}`);
      const strip = (o: { id: number; area: number; box: Box; centroidX: number; centroidY: number }) => [o.area, o.box, o.centroidX.toFixed(6), o.centroidY.toFixed(6)];
      const got = [...detectObjects(baseline, w, h)].map(strip).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      const expected = objectsOfMask(want).map(strip).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      assert.ok(expected.length > 3, 'the test mask has several objects');
      assert.deepEqual(got, expected);
    }
  });

  it('streaming tells every fine result as it arrives, the boxes kept rough first', async () => {
    const data = new Uint8Array(300 * 200 * 3);
    for (const [cx, cy, r] of [[40, 40, 3], [150, 100, 14], [250, 160, 9]]) {
      for (let y = cy - r; y <= cy + r; y++) for (let x = cx - r; x <= cx + r; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) data.fill(200, (y * 300 + x) * 3, (y * 300 + x) * 3 + 3);
    }
    const threshold: SegmentationNetwork = async (inputs) => inputs.map((x) => Float32Array.from({ length: x.width * x.height }, (_, i) => (x.data[i * 3] > 100 ? 1 : 0)));
    const told: { added: number; partial: number; kind: string }[] = [];
    const result = await streamingSegmentThenSegment(rasterImageSource({ width: 300, height: 200, channels: 3, data }), {
      size: 16, rough: threshold, fine: threshold, scale: { factorX: 2, factorY: 2 }, withinRough: true, roughOnlyUpTo: 30, batchSize: 1,
      onResults: (added, partial, kind) => told.push({ added: added.length, partial: partial.results.length, kind }),
    });
    assert.ok(result.roughOnly >= 1 && result.results.length > result.roughOnly, `${result.roughOnly} rough-only of ${result.results.length}`);
    assert.equal(told[0].added, result.roughOnly, 'the boxes kept rough come first');
    assert.deepEqual([...new Set(told.map((t) => t.kind))], ['rough-only', 'fine']);
    assert.equal(told.reduce((s, t) => s + t.added, 0), result.results.length);
    assert.equal(told.at(-1)!.partial, result.results.length);
  });
});
