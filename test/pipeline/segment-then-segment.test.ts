import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Raster } from '../../src/geometry/raster.js';
import { segmentThenSegment } from '../../src/pipeline/segment-then-segment.js';
import type { SegmentationNetwork } from '../../src/types/network.js';
import { boxToArray, encodeRle, loadFixture } from '../support/fixtures.js';

interface Algorithm1Golden {
  size: [number, number];
  S: number;
  image: number[];
  rough: number[];
  boxes: number[][];
  outputRle: number[];
}

const identity: SegmentationNetwork = async (inputs) => inputs.map((x) => x.data);

function blobImage(width: number, height: number, blobs: [number, number, number][]): Raster<Float32Array> {
  const data = new Float32Array(width * height);
  for (const [cx, cy, r] of blobs) {
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) data[y * width + x] = 1;
  }
  return { width, height, channels: 1, data };
}

describe('segmentThenSegment', () => {
  const golden = loadFixture<Algorithm1Golden[]>('golden_algorithm1.json.gz');

  it('reproduces all 40 reference runs of Algorithm 1: rough input, boxes and output mask', async () => {
    assert.equal(golden.length, 40);
    let withBoxes = 0;
    for (const [k, c] of golden.entries()) {
      const [H, W] = c.size;
      const image = { width: W, height: H, channels: 1, data: Float32Array.from(c.image) };
      let roughInput: Float32Array | undefined;
      const rough: SegmentationNetwork = async ([x]) => {
        roughInput = x.data;
        return [Float32Array.from(c.rough)];
      };
      const out = await segmentThenSegment(image, { size: c.S, rough, fine: identity, dropPolicy: 'reference', fallback: 'empty' });
      assert.deepEqual(roughInput, Float32Array.from(c.rough), `case ${k}: the downscaled image is the reference's`);
      assert.deepEqual(out.boxes.map(boxToArray), c.boxes, `case ${k}: boxes`);
      assert.deepEqual(encodeRle(out.mask.data), c.outputRle, `case ${k}: output mask`);
      if (c.boxes.length) withBoxes++;
    }
    assert.ok(withBoxes > 20);
  });

  it('gives the fine network all crops of an image as one batch, each S x S with all channels', async () => {
    const gray = blobImage(300, 200, [[40, 40, 12], [200, 150, 20], [250, 30, 8]]);
    const rgb = { width: 300, height: 200, channels: 3, data: new Float32Array(300 * 200 * 3) };
    gray.data.forEach((v, i) => rgb.data.set([v * 255, v * 128, v], i * 3));
    const calls: Raster<Float32Array>[][] = [];
    const out = await segmentThenSegment(rgb, {
      size: 32,
      rough: async (xs) => xs.map((x) => Float32Array.from({ length: 32 * 32 }, (_, i) => x.data[i * 3] / 255)),
      fine: async (xs) => {
        calls.push(xs);
        return xs.map((x) => Float32Array.from({ length: 32 * 32 }, (_, i) => x.data[i * 3 + 2]));
      },
    });
    assert.equal(calls.length, 1);
    assert.equal(calls[0].length, 3);
    for (const x of calls[0]) assert.deepEqual([x.width, x.height, x.channels, x.data.length], [32, 32, 3, 32 * 32 * 3]);
    assert.equal(out.boxes.length, 3);
    // the fine masks land where the blobs are
    assert.equal(out.mask.data[40 * 300 + 40], 1);
    assert.equal(out.mask.data[150 * 300 + 200], 1);
    assert.equal(out.mask.data[100 * 300 + 100], 0);
  });

  it('under the reference policy outputs an empty mask when no box survives, or the upsampled rough mask with fallback "rough"; the default clips the box', async () => {
    const image = blobImage(64, 48, []);
    let fineCalls = 0;
    const fine: SegmentationNetwork = async (xs) => {
      fineCalls++;
      return xs.map((x) => x.data);
    };
    // a rough map whose only component is tiny: its padded box stays >= 5 px, so use one that is dropped instead:
    // a component covering the whole map pads to a square larger than the image.
    const rough: SegmentationNetwork = async () => [new Float32Array(16 * 16).fill(0.9)];
    const reference = { dropPolicy: 'reference', fallback: 'empty' } as const;
    const empty = await segmentThenSegment(image, { size: 16, rough, fine, ...reference });
    assert.equal(empty.boxes.length, 0);
    assert.equal(empty.mask.data.reduce((a, b) => a + b, 0), 0);
    assert.equal(fineCalls, 0);
    const fallback = await segmentThenSegment(image, { size: 16, rough, fine, ...reference, fallback: 'rough' });
    assert.ok(fallback.usedFallback);
    assert.equal(fallback.mask.data.reduce((a, b) => a + b, 0), 64 * 48);
    // the defaults (clip, rough fallback) keep the box clipped to the image and segment it
    const clipped = await segmentThenSegment(image, { size: 16, rough, fine });
    assert.deepEqual(clipped.boxes, [{ left: 0, top: 0, width: 64, height: 48 }]);
    assert.ok(!clipped.usedFallback);
    assert.equal(fineCalls, 1);
  });

  it('rejects bad input with an error naming the argument', async () => {
    const image = blobImage(20, 20, [[10, 10, 4]]);
    const ok = { size: 8, rough: identity, fine: identity };
    await assert.rejects(segmentThenSegment(image, { ...ok, size: 0 }), /size: must be a positive integer, got 0/);
    await assert.rejects(segmentThenSegment(image, { ...ok, size: 2.5 }), /size: must be a positive integer/);
    await assert.rejects(segmentThenSegment({ ...image, width: 0, data: new Float32Array(0) }, ok), /image\.width: must be a positive integer, got 0/);
    await assert.rejects(segmentThenSegment({ ...image, height: 19 }, ok), /image\.data: has 400 values but 20 x 19 x 1 needs 380/);
    const nan = Float32Array.from(image.data);
    nan[7] = NaN;
    await assert.rejects(segmentThenSegment({ ...image, data: nan }, ok), /image\.data: value at index 7 is NaN/);
    await assert.rejects(segmentThenSegment(image, { ...ok, rough: async () => [] }), /rough: returned 0 maps for 1 inputs/);
    await assert.rejects(segmentThenSegment(image, { ...ok, rough: async () => [new Float32Array(10)] }), /rough output 0: has 10 values; a 8 x 8 map has 64/);
    await assert.rejects(segmentThenSegment(image, { ...ok, fine: async (xs) => xs.map(() => new Float32Array(64).fill(NaN)) }), /fine output 0\.data: value at index 0 is NaN/);
    await assert.rejects(segmentThenSegment(image, { ...ok, dropPolicy: 'drop' as never }), /dropPolicy: unknown policy 'drop'/);
    await assert.rejects(segmentThenSegment(image, { ...ok, fallback: 'x' as never }), /fallback: unknown fallback 'x'/);
    await assert.rejects(segmentThenSegment(image, { ...ok, fine: undefined as never }), /fine: must be an async function/);
  });

  it('stops when its signal is aborted', async () => {
    const image = blobImage(20, 20, [[10, 10, 4]]);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(segmentThenSegment(image, { size: 8, rough: identity, fine: identity, signal: controller.signal }), { name: 'AbortError' });
  });
});
