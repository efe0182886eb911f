import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { openImageSource } from '../../src/io/file-image-source.js';
import type { ImageSource } from '../../src/types/image-source.js';
import { rasterImageSource } from '../../src/io/raster-image-source.js';
import { roughInputOfMetadata } from '../../src/types/training-scale.js';
import { readMask } from '../../src/io/image-files.js';
import { connectedComponents, labelImage } from '../../src/geometry/components.js';
import { crop } from '../../src/geometry/crop.js';
import { polygonsArea, traceRegion } from '../../src/geometry/polygons.js';
import type { Raster } from '../../src/geometry/raster.js';
import { resize } from '../../src/geometry/resize.js';
import { downscaleReader } from '../../src/pipeline/downscale-reader.js';
import { detectObjects } from '../../src/pipeline/fine-results.js';
import { predictImage } from '../../src/pipeline/predict-image.js';
import { segmentThenSegment } from '../../src/pipeline/segment-then-segment.js';
import type { SegmentationNetwork } from '../../src/types/network.js';
import { renderRegion } from '../../src/pipeline/fine-results.js';
import { roughMaskOf, roughPlan, splitLargeBoxes, streamingSegmentThenSegment } from '../../src/pipeline/streaming-sts.js';
import { tileStarts } from '../../src/pipeline/tiled-rough.js';
import { seededRng } from '../../src/random.js';

const mulberry = (seed: number) => {
  const rng = seededRng(seed);
  return () => rng.int(0, 2 ** 30) / 2 ** 30;
};

function randomImage(width: number, height: number, seed: number): Raster<Uint8Array> {
  const rand = mulberry(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
  return { width, height, channels: 3, data };
}

const raw = (r: Raster<Uint8Array>) => sharp(r.data, { raw: { width: r.width, height: r.height, channels: r.channels as 3 } });

/** Gray disks (value 200) on black, as an RGB image. */
function disks(width: number, height: number, list: [number, number, number][]): Raster<Uint8Array> {
  const data = new Uint8Array(width * height * 3);
  for (const [cx, cy, r] of list) {
    for (let y = Math.max(0, cy - r); y <= Math.min(height - 1, cy + r); y++) {
      for (let x = Math.max(0, cx - r); x <= Math.min(width - 1, cx + r); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) data.fill(200, (y * width + x) * 3, (y * width + x) * 3 + 3);
      }
    }
  }
  return { width, height, channels: 3, data };
}

/** A stand-in network: foreground where the first channel is bright. */
const threshold: SegmentationNetwork = async (inputs) =>
  inputs.map((x) => {
    const out = new Float32Array(x.width * x.height);
    for (let i = 0; i < out.length; i++) out[i] = x.data[i * x.channels] > 100 ? 1 : 0;
    return out;
  });

/** The image as a tiled TIFF in a new temporary folder, opened as an image source. */
async function tiledTiffSource(image: Raster<Uint8Array>, prefix: string) {
  const path = join(mkdtempSync(join(tmpdir(), prefix)), 'disks.tif');
  await raw(image).tiff({ tile: true, tileWidth: 64, tileHeight: 64 }).toFile(path);
  return openImageSource(path);
}

describe('image source', () => {
  const image = randomImage(300, 200, 1);
  const dir = mkdtempSync(join(tmpdir(), 'sts-source-'));
  const files = {
    'tiled TIFF': join(dir, 'tiled.tif'),
    'pyramidal BigTIFF': join(dir, 'pyramid.tif'),
    'strip TIFF': join(dir, 'strips.tif'),
    PNG: join(dir, 'image.png'),
  };

  it('reads every window of tiled, pyramidal, striped and PNG files exactly as the whole image holds it', async () => {
    await raw(image).tiff({ tile: true, tileWidth: 64, tileHeight: 64, compression: 'deflate' }).toFile(files['tiled TIFF']);
    await raw(image).tiff({ tile: true, tileWidth: 64, tileHeight: 64, pyramid: true, bigtiff: true, compression: 'lzw' }).toFile(files['pyramidal BigTIFF']);
    await raw(image).tiff({ compression: 'lzw' }).toFile(files['strip TIFF']);
    await raw(image).png().toFile(files.PNG);
    const boxes = [
      { left: 0, top: 0, width: 300, height: 200 },
      { left: 63, top: 63, width: 70, height: 3 },
      { left: 250, top: 150, width: 80, height: 80 }, // beyond the right and bottom: zeros there
      { left: -5, top: -7, width: 20, height: 20 },
    ];
    for (const [kind, path] of Object.entries(files)) {
      // The PNG is also read through its temporary tiled copy, as a large PNG would be.
      for (const inMemoryPixels of kind === 'PNG' ? [Infinity, 0] : [Infinity]) {
        const source = await openImageSource(path, { inMemoryPixels });
        assert.equal(source.width, 300);
        for (const box of boxes) {
          const got = await source.read(box);
          const want = crop(image, box);
          assert.deepEqual(Array.from(got.data), Array.from(want.data), `${kind} ${JSON.stringify(box)}`);
        }
        await source.close();
      }
    }
  });

  it('finds the pyramid levels and reads bands of the downscaled image as the whole-image resize gives them', async () => {
    const source = await openImageSource(files['pyramidal BigTIFF']);
    assert.ok(source.levels.length >= 2, `levels ${JSON.stringify(source.levels)}`);
    const reader = downscaleReader(source, 37, 29, { exact: true, maxChunkBytes: 3000 });
    const whole = resize(image, 37, 29, 'nearest');
    const top = await reader.readRows(0, 10);
    const rest = await reader.readRows(10, 19);
    assert.deepEqual([...top.data, ...rest.data], Array.from(whole.data));
    // Without `exact`, a reduced level serves a small target.
    assert.ok(downscaleReader(source, 100, 60).level > 0);
  });

  it('converts 16-bit, gray, gray + alpha and RGBA files to 8-bit RGB, and names a broken file', async () => {
    const gray16 = new Uint16Array(40 * 30).map((_, i) => i * 50);
    await sharp(gray16, { raw: { width: 40, height: 30, channels: 1 } })
      .toColourspace('grey16')
      .tiff()
      .toFile(join(dir, 'gray16.tif'));
    const g16 = await openImageSource(join(dir, 'gray16.tif'));
    const px = (await g16.read({ left: 10, top: 0, width: 1, height: 1 })).data;
    assert.deepEqual(Array.from(px), [1, 1, 1]); // 500 >> 8, replicated
    for (const channels of [2, 4] as const) {
      const data = new Uint8Array(20 * 20 * channels).fill(90);
      const path = join(dir, `c${channels}.png`);
      await sharp(data, { raw: { width: 20, height: 20, channels } }).png().toFile(path);
      const s = await openImageSource(path);
      assert.equal((await s.read({ left: 0, top: 0, width: 20, height: 20 })).channels, 3);
    }
    const png = readFileSync(files.PNG);
    const truncated = join(dir, 'truncated.png');
    writeFileSync(truncated, png.subarray(0, png.length >> 1));
    await assert.rejects(openImageSource(truncated), (e: Error) => e.message.startsWith(truncated));
  });
});

describe('streaming Segment-then-Segment', () => {
  it('tiles the rough pass so that every position is covered and the last tile is flush', () => {
    assert.deepEqual(tileStarts(100, 32, 8), [0, 24, 48, 68]);
    assert.deepEqual(tileStarts(20, 32, 8), [0]);
  });

  it('segments objects that straddle rough tiles once and whole', async () => {
    // S = 32, scale 2: the 400 x 400 image is 200 x 200 downscaled, tiles start every 24 px (48 px of the image).
    const list: [number, number, number][] = [
      [48 * 2, 48 * 2, 7], // on a corner where four tiles meet (in downscaled pixels: 48, 48)
      [56 * 2, 150, 6], // on a vertical seam
      [200, 74 * 2, 6], // on a horizontal seam
      [300, 300, 5],
    ];
    const image = disks(400, 400, list);
    const dir = mkdtempSync(join(tmpdir(), 'sts-straddle-'));
    const path = join(dir, 'disks.tif');
    await raw(image).tiff({ tile: true, tileWidth: 64, tileHeight: 64 }).toFile(path);
    const source = await openImageSource(path);
    const result = await streamingSegmentThenSegment(source, { size: 32, rough: threshold, fine: threshold, scale: { factorX: 2, factorY: 2 }, overlap: 8 });
    assert.equal(result.rough.mode, 'tiled');
    assert.ok(result.rough.tiles >= 49);
    assert.equal(result.boxes.length, list.length, 'one crop per object');
    const objects = [...detectObjects(result, 400, 400)];
    assert.equal(objects.length, list.length, 'each object found once');
    for (const [cx, cy] of list) {
      const o = objects.find((b) => Math.abs(b.centroidX - (cx + 0.5)) <= 1.5 && Math.abs(b.centroidY - (cy + 0.5)) <= 1.5);
      assert.ok(o, `object at ${cx}, ${cy}`);
      let truth = 0;
      const truthMask = disks(400, 400, [list.find(([x, y]) => x === cx && y === cy)!]);
      for (let i = 0; i < truthMask.data.length; i += 3) truth += truthMask.data[i] ? 1 : 0;
      // Whole: nearest resizing of the crop to S and back trims about a pixel row, not half an object.
      assert.ok(Math.abs(o.area - truth) <= truth * 0.1, `area ${o.area} vs ${truth}`);
    }
  });

  it('withinRough keeps the fine masks inside the upsampled rough mask, in every rendering', async () => {
    const image = disks(400, 400, [[96, 96, 9], [250, 120, 12], [300, 300, 6]]);
    const source = await tiledTiffSource(image, 'sts-within-');
    // A fine network that fills every crop: on its own it paints whole boxes.
    const filler: SegmentationNetwork = async (inputs) => inputs.map((x) => new Float32Array(x.width * x.height).fill(1));
    const options = { size: 32, rough: threshold, fine: filler, scale: { factorX: 2, factorY: 2 }, overlap: 8 };
    const full = { left: 0, top: 0, width: 400, height: 400 };
    const pasted = renderRegion(await streamingSegmentThenSegment(source, options), full);
    const bounded = await streamingSegmentThenSegment(source, { ...options, withinRough: true });
    const clipped = renderRegion(bounded, full);
    const rough = resize(roughMaskOf(bounded), 400, 400, 'nearest');
    let inside = 0;
    for (let i = 0; i < clipped.data.length; i++) {
      assert.equal(clipped.data[i], pasted.data[i] && rough.data[i] ? 1 : 0, `pixel ${i}`);
      inside += clipped.data[i];
    }
    const boxes = pasted.data.reduce((a, v) => a + v, 0);
    assert.ok(inside > 0 && inside < boxes * 0.9, `bounded ${inside} px of the boxes' ${boxes}`);
    // Bands and objects see the same bound as the whole render.
    const band = renderRegion(bounded, { left: 0, top: 100, width: 400, height: 37 });
    assert.deepEqual(Array.from(band.data), Array.from(clipped.data.subarray(100 * 400, 137 * 400)));
    const objects = [...detectObjects(bounded, 400, 400)];
    assert.equal(objects.length, 3);
    assert.equal(objects.reduce((a, o) => a + o.area, 0), inside);
  });

  it('lets the rough mask go and keeps the maps unpacked when told, with the same result', async () => {
    const image = disks(400, 400, [[96, 96, 9], [250, 120, 12], [300, 300, 6]]);
    const source = await tiledTiffSource(image, 'sts-keep-');
    const options = { size: 32, rough: threshold, fine: threshold, scale: { factorX: 2, factorY: 2 }, overlap: 8 };
    const full = { left: 0, top: 0, width: 400, height: 400 };
    const kept = await streamingSegmentThenSegment(source, options);
    assert.equal(roughMaskOf(kept).width, 200);
    assert.ok(kept.results.every((r) => !(r.map instanceof Uint8Array)), 'packed by default');
    const lean = await streamingSegmentThenSegment(source, { ...options, keepRoughMask: false, packMaps: false });
    assert.equal(lean.roughMask, undefined);
    assert.throws(() => roughMaskOf(lean), /let go during the run/);
    assert.ok(lean.results.every((r) => r.map instanceof Uint8Array), 'unpacked when told');
    assert.deepEqual(renderRegion(lean, full).data, renderRegion(kept, full).data);
    // The bound of withinRough is the rough mask: it stays, whatever keepRoughMask says.
    const bounded = await streamingSegmentThenSegment(source, { ...options, withinRough: true, keepRoughMask: false });
    assert.equal(bounded.roughMask, undefined);
    assert.deepEqual(bounded.bound?.mask.data, kept.roughMask?.data);
  });

  it('roughOnlyUpTo keeps the rough answer of small components without a fine crop', async () => {
    // Disks of radius 12, 9 and 5: about 113, 64 and 20 pixels of the rough mask at scale 2.
    const image = disks(400, 400, [[250, 120, 12], [96, 96, 9], [300, 300, 5]]);
    const source = await tiledTiffSource(image, 'sts-rough-only-');
    let crops = 0;
    const filler: SegmentationNetwork = async (inputs) => {
      crops += inputs.length;
      return inputs.map((x) => new Float32Array(x.width * x.height).fill(1));
    };
    const options = { size: 32, rough: threshold, fine: filler, scale: { factorX: 2, factorY: 2 }, overlap: 8, withinRough: true };
    const full = { left: 0, top: 0, width: 400, height: 400 };
    const refined = await streamingSegmentThenSegment(source, options);
    assert.equal(crops, 3);
    crops = 0;
    const partly = await streamingSegmentThenSegment(source, { ...options, roughOnlyUpTo: 80 });
    assert.equal(partly.roughOnly, 2);
    assert.equal(crops, 1, 'only the largest disk is refined');
    // A filling fine network draws what the rough mask (upsampled in 2 x 2 blocks) draws; the boxes kept rough draw
    // the rough probability upsampled smoothly, so the renders differ only along the blocks' outline, within one
    // rough pixel of it (rough-only.test.ts checks that they follow it).
    const a = renderRegion(partly, full).data;
    const b = renderRegion(refined, full).data;
    let differ = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] === b[i]) continue;
      differ++;
      const x = i % 400;
      const y = Math.floor(i / 400);
      let edge = false;
      for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) edge ||= b[(y + dy) * 400 + x + dx] !== b[i];
      assert.ok(edge, `pixel (${x}, ${y}) differs away from the rough outline`);
    }
    assert.ok(differ > 0 && differ < 0.2 * b.reduce((n, v) => n + v, 0), `${differ} pixels differ`);
    assert.deepEqual(partly.results.map((r) => r.box.top), [...partly.results.map((r) => r.box.top)].sort((a, b) => a - b), 'results sorted by top');
    await assert.rejects(streamingSegmentThenSegment(source, { ...options, withinRough: false, roughOnlyUpTo: 80 }), /needs withinRough/);
  });

  it("reads the next batch's crop windows while the fine network runs on this one, with the same result", async () => {
    // 9 disks far apart: 9 boxes, fine batches of 2.
    const list: [number, number, number][] = [];
    for (let i = 0; i < 9; i++) list.push([30 + (i % 3) * 100, 30 + Math.floor(i / 3) * 100, 6]);
    const image = disks(300, 300, list);
    const events: string[] = [];
    const inner = rasterImageSource(image);
    // Crop windows only (the rough pass reads the whole image).
    const source: ImageSource = { ...inner, width: inner.width, height: inner.height, read: async (box) => (box.width < 300 && events.push('read'), inner.read(box)) };
    let calls = 0;
    const fine: SegmentationNetwork = async (inputs) => {
      const call = ++calls;
      events.push(`fine ${call} start`);
      // The network's time: reads started before it are given the chance to run.
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push(`fine ${call} end`);
      return threshold(inputs);
    };
    const options = { size: 32, rough: threshold, scale: { factorX: 300 / 32, factorY: 300 / 32 }, batchSize: 2 };
    const result = await streamingSegmentThenSegment(source, { ...options, fine });
    assert.equal(result.boxes.length, 9);
    assert.equal(calls, 5);
    // While call k runs, batch k + 1's windows are being read (asked for before the call), never more.
    for (let k = 1; k <= 5; k++) {
      const reads = events.slice(0, events.indexOf(`fine ${k} end`)).filter((e) => e === 'read').length;
      assert.equal(reads, Math.min(9, 2 * (k + 1)), `windows read by the end of call ${k}: ${events.join(', ')}`);
    }
    const plain = await streamingSegmentThenSegment(rasterImageSource(image), { ...options, fine: threshold });
    const region = { left: 0, top: 0, width: 300, height: 300 };
    assert.deepEqual(Array.from(renderRegion(result, region).data), Array.from(renderRegion(plain, region).data));
  });

  it('gives exactly the in-memory Algorithm 1 mask and boxes on an image at the training scale (single rough pass)', async () => {
    const image = disks(300, 220, [[40, 40, 9], [150, 100, 12], [260, 190, 7], [70, 170, 5]]);
    const dir = mkdtempSync(join(tmpdir(), 'sts-single-'));
    const path = join(dir, 'disks.png');
    await raw(image).png().toFile(path);
    const source = await openImageSource(path);
    const streamed = await streamingSegmentThenSegment(source, { size: 32, rough: threshold, fine: threshold, scale: { factorX: 300 / 32, factorY: 220 / 32 } });
    assert.equal(streamed.rough.mode, 'single');
    const inMemory = await segmentThenSegment(image, { size: 32, rough: threshold, fine: threshold });
    assert.deepEqual(streamed.boxes, inMemory.boxes);
    const whole = renderRegion(streamed, { left: 0, top: 0, width: 300, height: 220 });
    assert.deepEqual(Array.from(whole.data), Array.from(inMemory.mask.data));
  });

  it('traces pixel-edge polygons whose areas are the regions\' pixel counts, holes and diagonal contacts included', () => {
    const rand = mulberry(7);
    for (let trial = 0; trial < 30; trial++) {
      const w = 24;
      const h = 18;
      const data = new Uint8Array(w * h).map(() => (rand() < 0.45 ? 1 : 0));
      const c = connectedComponents({ width: w, height: h, channels: 1, data });
      const labels = labelImage(c);
      for (let k = 0; k < c.count; k++) {
        const polygons = traceRegion(labels, w, k + 1, c.boxes[k]);
        assert.equal(polygonsArea(polygons), c.areas[k], `trial ${trial} component ${k + 1}`);
      }
    }
    // A ring with a hole: 16 outer - 4 hole pixels.
    const ring = new Uint8Array(36);
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) ring[y * 6 + x] = x === 0 || y === 0 || x === 5 || y === 5 ? 1 : 0;
    const c = connectedComponents({ width: 6, height: 6, channels: 1, data: ring });
    const p = traceRegion(labelImage(c), 6, 1, c.boxes[0]);
    assert.equal(p.length, 1);
    assert.equal(p[0].length, 2, 'outer ring and one hole');
    assert.equal(polygonsArea(p), 20);
  });

  it('writes mask, GeoJSON, CSV and overlay whose polygon areas add up to the mask', async () => {
    const image = disks(300, 260, [[50, 50, 9], [150, 120, 12], [160, 140, 10], [250, 200, 6]]);
    const dir = mkdtempSync(join(tmpdir(), 'sts-predict-'));
    const path = join(dir, 'cells.png');
    await raw(image).png().toFile(path);
    const out = join(dir, 'out', 'cells');
    const summary = await predictImage(path, out, { size: 32, channels: 3, rough: threshold, fine: threshold, scale: { factorX: 2, factorY: 2 } });
    assert.equal(summary.objects, 3);
    const mask = await readMask(join(out, 'mask.png'));
    const foreground = mask.data.reduce((s, v) => s + v, 0);
    assert.equal(summary.foregroundPixels, foreground);
    const geo = JSON.parse(readFileSync(join(out, 'objects.geojson'), 'utf8')) as { type: string; features: { geometry: { type: string; coordinates: unknown } ; properties: { objectType: string } }[] };
    assert.equal(geo.type, 'FeatureCollection');
    assert.equal(geo.features.length, 3);
    let area = 0;
    for (const f of geo.features) {
      assert.equal(f.properties.objectType, 'detection');
      const polys = (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates) as [number, number][][][];
      area += polygonsArea(polys);
    }
    assert.equal(area, foreground);
    const csv = readFileSync(join(out, 'objects.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'id,area_px,left,top,width,height,centroid_x,centroid_y');
    assert.equal(csv.slice(1).reduce((s, l) => s + Number(l.split(',')[1]), 0), foreground);
    const overlay = await sharp(join(out, 'overlay.png')).metadata();
    assert.deepEqual([overlay.width, overlay.height], [300, 260]);
  });

  it('writes a large mask as a tiled, pyramidal TIFF equal to the mask rendered whole, a tile row at a time, its levels by nearest', async () => {
    const { writeMask } = await import('../../src/io/mask-writer.js');
    const dir = mkdtempSync(join(tmpdir(), 'sts-maskwriter-'));
    const w = 700;
    const h = 530;
    const whole = new Uint8Array(w * h).map((_, i) => ((i % w) * (Math.floor(i / w) + 3)) % 7 === 0 ? 1 : 0);
    const path = join(dir, 'mask.tif');
    const bands: number[] = [];
    await writeMask(path, w, h, (top, rows) => (bands.push(rows), whole.slice(top * w, (top + rows) * w)), { pyramidPixels: 1000 });
    // Asked for a tile row (256) at a time, never the whole mask.
    assert.deepEqual(bands, [256, 256, 18]);
    const meta = await sharp(path).metadata();
    assert.equal(meta.format, 'tiff');
    assert.equal(meta.channels, 1);
    // The levels by nearest: 350 x 265, then 175 x 133, which fits a tile.
    assert.deepEqual(meta.subifds, 2, 'pyramid');
    const back = await readMask(path);
    assert.deepEqual(Array.from(back.data), Array.from(whole));
    const level = await sharp(path, { subifd: 0 }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([level.info.width, level.info.height], [350, 265]);
    for (const [x, y] of [[0, 0], [13, 7], [349, 264], [100, 200]]) assert.equal(level.data[y * 350 + x], whole[2 * y * w + 2 * x] ? 255 : 0);
    // Below pyramidPixels: the full resolution alone.
    await writeMask(join(dir, 'flat.tif'), w, h, (top, rows) => whole.slice(top * w, (top + rows) * w), { pyramidPixels: w * h });
    assert.equal((await sharp(join(dir, 'flat.tif')).metadata()).subifds ?? 0, 0);
  });
});

describe('rough pass plan', () => {
  it('keeps the paper single pass near the training size for whole-image models, and tiles everything for fixed-scale ones', () => {
    const scale = { factorX: 4, factorY: 4 };
    assert.deepEqual(roughPlan(256, 256, 64, scale), { mode: 'single', width: 64, height: 64 });
    assert.deepEqual(roughPlan(2000, 1200, 64, scale), { mode: 'tiled', width: 500, height: 300 });
    assert.deepEqual(roughPlan(256, 200, 64, scale, 0), { mode: 'tiled', width: 64, height: 50 });
    assert.equal(roughInputOfMetadata({ sts: { roughInput: 'fixed-scale' } }), 'fixed-scale');
    assert.equal(roughInputOfMetadata({ sts: {} }), 'whole-image', 'models from before the option were trained on whole images');
  });
});

describe('oversized boxes', () => {
  it('are covered by S x S windows at full resolution, inside the image; others stay whole', () => {
    const S = 16;
    const image = { width: 100, height: 60 };
    const small = { left: 5, top: 5, width: 20, height: 30 };
    const big = { left: 50, top: 10, width: 50, height: 50 };
    const out = splitLargeBoxes([small, big], 40, S, 4, image);
    assert.deepEqual(out[0], small);
    const windows = out.slice(1);
    assert.ok(windows.every((w) => w.width === S && w.height === S && w.left >= 0 && w.top >= 0 && w.left + S <= 100 && w.top + S <= 60));
    // Every pixel of the big box is in some window.
    for (let y = big.top; y < Math.min(60, big.top + big.height); y++) {
      for (let x = big.left; x < big.left + big.width; x++) {
        assert.ok(windows.some((w) => x >= w.left && x < w.left + S && y >= w.top && y < w.top + S), `(${x}, ${y}) uncovered`);
      }
    }
    assert.equal(new Set(windows.map((w) => `${w.left},${w.top}`)).size, windows.length, 'no window twice');
    assert.deepEqual(splitLargeBoxes([small, big], Infinity, S, 4, image), [small, big], 'no limit: the paper');
  });

  it('below S, windows are max-side wide (enlarged by the fine pass) and still cover the box, overlapping in proportion', () => {
    const S = 16;
    const image = { width: 100, height: 60 };
    const big = { left: 50, top: 10, width: 50, height: 50 };
    const windows = splitLargeBoxes([big], 8, S, 4, image);
    assert.ok(windows.every((w) => w.width === 8 && w.height === 8 && w.left + 8 <= 100 && w.top + 8 <= 60));
    for (let y = big.top; y < 60; y++) {
      for (let x = big.left; x < 100; x++) assert.ok(windows.some((w) => x >= w.left && x < w.left + 8 && y >= w.top && y < w.top + 8), `(${x}, ${y}) uncovered`);
    }
    // Overlap 4 of 16 becomes 2 of 8: a stride of 6 along the box's 50 px.
    assert.deepEqual([...new Set(windows.map((w) => w.left))].slice(0, 3), [50, 56, 62]);
  });
});
