import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Raster } from '../../src/geometry/raster.js';
import { nearestSourceIndices } from '../../src/geometry/resize.js';
import { rasterImageSource } from '../../src/io/raster-image-source.js';
import { detectObjects, renderRegion } from '../../src/pipeline/fine-results.js';
import { roughMaskOf, streamingSegmentThenSegment } from '../../src/pipeline/streaming-sts.js';

/** A soft disc: intensity falls linearly from 255 to 0 across its edge, crossing 128 at distance `r` from the centre. */
function softDisc(width: number, height: number, cx: number, cy: number, r: number): Raster<Uint8Array> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d = Math.hypot(x - cx, y - cy);
      data.fill(Math.round(255 * Math.min(1, Math.max(0, (r + 8 - d) / 16))), (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return { width, height, channels: 3, data };
}

/** The rough network's probability: the image's brightness. */
const brightness = async (inputs: Raster<Float32Array>[]) => inputs.map((x) => Float32Array.from({ length: x.width * x.height }, (_, i) => x.data[i * x.channels] / 255));
const noFineCrop = async (): Promise<Float32Array[]> => {
  throw new Error('a box kept rough got a fine crop');
};

describe('boxes kept rough on slides (--rough-only-up-to)', () => {
  it('follow the rough probability smoothly: the object is no union of rough-pixel blocks, and is closer to the true disc', async () => {
    const W = 128;
    const image = softDisc(W, W, 61.3, 66.7, 21);
    const result = await streamingSegmentThenSegment(rasterImageSource(image), {
      size: 32,
      rough: brightness,
      fine: noFineCrop,
      scale: { factorX: 4, factorY: 4 },
      withinRough: true,
      roughOnlyUpTo: 10_000,
    });
    assert.equal(result.roughOnly, result.boxes.length);
    const drawn = renderRegion(result, { left: 0, top: 0, width: W, height: W }).data;
    assert.equal([...detectObjects(result, W, W)].length, 1, 'one object');
    // Each rough pixel covers a 4 x 4 block of the image: blocky upsampling fills whole blocks or none.
    const rows = nearestSourceIndices(32, W);
    const blocks = new Map<number, Set<number>>();
    for (let y = 0; y < W; y++) {
      for (let x = 0; x < W; x++) {
        const key = rows[y] * 32 + rows[x];
        blocks.set(key, (blocks.get(key) ?? new Set()).add(drawn[y * W + x]));
      }
    }
    const mixed = [...blocks.values()].filter((s) => s.size > 1).length;
    assert.ok(mixed >= 8, `${mixed} blocks partly drawn: the outline cuts through rough pixels`);
    // Against the disc the image holds (brightness >= 128), the smooth object beats the rough mask upsampled in blocks.
    const truth = Uint8Array.from({ length: W * W }, (_, i) => (image.data[i * 3] >= 128 ? 1 : 0));
    const blocky = Uint8Array.from({ length: W * W }, (_, i) => roughMaskOf(result).data[rows[Math.floor(i / W)] * 32 + rows[i % W]]);
    const iou = (a: Uint8Array) => {
      let both = 0;
      let either = 0;
      for (let i = 0; i < a.length; i++) {
        both += a[i] & truth[i];
        either += a[i] | truth[i];
      }
      return both / either;
    };
    assert.ok(iou(drawn) > iou(blocky) + 0.02, `IoU smooth ${iou(drawn).toFixed(3)} against blocky ${iou(blocky).toFixed(3)}`);
  });
});
