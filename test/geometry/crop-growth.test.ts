import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutSides, grownBox } from '../../src/geometry/crop-growth.js';
import { segmentThenSegment } from '../../src/pipeline/segment-then-segment.js';
import type { Raster } from '../../src/geometry/raster.js';
import { rasterImageSource } from '../../src/io/raster-image-source.js';
import { renderRegion } from '../../src/pipeline/fine-results.js';
import { streamingSegmentThenSegment } from '../../src/pipeline/streaming-sts.js';

describe('crops that check themselves', () => {
  const image = { width: 200, height: 100 };
  it('finds the sides where the mask reaches the border and the image goes on', () => {
    const S = 20;
    const map = new Float32Array(S * S);
    for (let y = 0; y < S; y++) map[y * S + S - 1] = 1; // the right column
    assert.deepEqual(cutSides(map, S, { left: 10, top: 10, width: 40, height: 40 }, image), { left: false, top: false, right: true, bottom: false });
    // at the image's right edge there is nothing more to see
    assert.equal(cutSides(map, S, { left: 160, top: 10, width: 40, height: 40 }, image), undefined);
    // a single pixel on the border (a neighbour's edge) is below the default share
    const speck = new Float32Array(S * S);
    speck[S - 1] = 1;
    assert.equal(cutSides(speck, S, { left: 10, top: 10, width: 40, height: 40 }, image), undefined);
  });

  it('grows the cut sides by half the side, stays square and inside the image', () => {
    const grown = grownBox({ left: 10, top: 10, width: 40, height: 40 }, { left: false, top: false, right: true, bottom: false }, image)!;
    assert.deepEqual(grown, { left: 10, top: 0, width: 60, height: 60 });
    const clipped = grownBox({ left: 0, top: 0, width: 90, height: 90 }, { left: false, top: false, right: false, bottom: true }, image)!;
    assert.deepEqual(clipped, { left: 0, top: 0, width: 135, height: 100 });
    assert.equal(grownBox({ left: 0, top: 0, width: 200, height: 100 }, { left: false, top: false, right: true, bottom: true }, image), undefined);
  });

  it('a large object that the rough pass found only in part is segmented whole after growing', async () => {
    // A bright bar of 120 x 30; the rough network sees only its left quarter, so the first crop cuts it.
    const width = 200;
    const height = 100;
    const data = new Uint8Array(width * height * 3);
    for (let y = 35; y < 65; y++) for (let x = 40; x < 160; x++) data.fill(220, (y * width + x) * 3, (y * width + x) * 3 + 3);
    const img: Raster<Uint8Array> = { width, height, channels: 3, data };
    const S = 32;
    // Rough: foreground only in the bar's left quarter (in the S x S downscale: columns 6..11).
    const rough = async (xs: Raster<Float32Array>[]) => xs.map((x) => Float32Array.from({ length: S * S }, (_, i) => (x.data[i * 3] > 100 && i % S < 12 ? 1 : 0)));
    const fine = async (xs: Raster<Float32Array>[]) => xs.map((x) => Float32Array.from({ length: S * S }, (_, i) => (x.data[i * 3] > 100 ? 1 : 0)));
    const area = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);
    const once = await segmentThenSegment(img, { size: S, rough, fine, dropPolicy: 'clip' });
    const grown = await segmentThenSegment(img, { size: S, rough, fine, dropPolicy: 'clip', growCrops: 3 });
    assert.ok(area(once.mask.data) < 0.8 * 120 * 30, `without growth the bar is cut (${area(once.mask.data)} px)`);
    // whole up to the nearest resize of a 150-pixel crop to 32 x 32 at its edges
    assert.ok(area(grown.mask.data) >= 0.95 * 120 * 30, `grown, the bar is whole (${area(grown.mask.data)} px)`);
    assert.equal(grown.boxes.length, 1);
    // The streaming pipeline (sts predict, the page) grows its crops the same way.
    const streamed = async (growCrops: number) => {
      const r = await streamingSegmentThenSegment(rasterImageSource(img), { size: S, rough, fine, dropPolicy: 'clip', growCrops });
      return area(renderRegion(r, { left: 0, top: 0, width, height }).data);
    };
    assert.ok((await streamed(0)) < 0.8 * 120 * 30);
    assert.ok((await streamed(3)) >= 0.95 * 120 * 30);
  });
});
