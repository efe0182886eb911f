/**
 * Images read as they are meant (issue 28, class 4, and the pixel limit of class 6): float and signed TIFFs scaled
 * by their range, EXIF orientation applied on every path, an OME-TIFF's largest series chosen (and said), corrupt
 * JPEG data refused, any size read without sharp's pixel limit and without a temporary file left behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { openImageSource } from '../../src/io/file-image-source.js';
import { readImage, readImageInfo, readMask } from '../../src/io/image-files.js';
import { jpegDataProblem } from '../../src/io/jpeg-data.js';
import { omeImagesOf } from '../../src/io/ome-xml.js';
import { sampleScaling } from '../../src/io/sample-scaling.js';
import { predictImage } from '../../src/pipeline/predict-image.js';
import type { SegmentationNetwork } from '../../src/types/network.js';
import { constantGrayPng } from '../support/large-png.js';
import { writeTiff } from '../support/tiff-writer.js';

const W = 64;
const H = 48;

const all = async (path: string, options: Parameters<typeof openImageSource>[1] = {}) => {
  const source = await openImageSource(path, options);
  try {
    return { source, pixels: await source.read({ left: 0, top: 0, width: source.width, height: source.height }) };
  } finally {
    await source.close();
  }
};

/** Every `step`-th pixel's first channel along the first row. */
const firstRow = (data: Uint8Array, channels: number, step: number) => Array.from({ length: W / step }, (_, i) => data[i * step * channels]);

describe('float and signed TIFFs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-samples-'));
  // A horizontal ramp: 0 at the left, the top of the range at the right.
  const ramp = (lo: number, hi: number) => (_: number, i: number) => lo + ((i % W) * (hi - lo)) / (W - 1);
  const want = [0, 32, 65, 97, 130, 162, 194, 227]; // the ramp at 0, 8, ..., 56 of 63, as 0..255 rounded

  it('scales a float32 TIFF with values 0..1 by 255 (it read as black before) and says so', async () => {
    const path = join(dir, 'float01.tif');
    writeFileSync(path, writeTiff({ width: W, height: H, samples: 1, bits: 32, sampleFormat: 3, data: new Float32Array(W * H).map(ramp(0, 1)) }));
    const notes: string[] = [];
    const { pixels } = await all(path, { note: (l) => notes.push(l) });
    assert.deepEqual(firstRow(pixels.data, 3, 8), want);
    assert.deepEqual(notes, [`${path}: 32-bit float samples in 0..1, scaled x 255`]);
    // Training reads the same pixels.
    assert.deepEqual(Array.from((await readImage(path)).data), Array.from(pixels.data));
  });

  it('scales a signed 16-bit TIFF (and a float one beyond 0..1) from its own min..max to 0..255', async () => {
    const signed = join(dir, 'signed.tif');
    writeFileSync(signed, writeTiff({ width: W, height: H, samples: 1, bits: 16, sampleFormat: 2, data: new Int16Array(W * H).map(ramp(-3000, 3300)) }));
    const notes: string[] = [];
    const { pixels } = await all(signed, { note: (l) => notes.push(l), channels: 1 });
    assert.deepEqual(firstRow(pixels.data, 1, 8), want);
    assert.match(notes[0], /signed\.tif: 16-bit signed samples in -3000\.\.3300, scaled linearly from that range to 0\.\.255/);
    const floats = join(dir, 'float-rgb.tif');
    writeFileSync(floats, writeTiff({ width: W, height: H, samples: 3, bits: 32, sampleFormat: 3, data: new Float32Array(W * H * 3).map((_, i) => ramp(-10, 500)(0, Math.floor(i / 3))) }));
    // libvips takes 3-band float as linear-light scRGB; the values are read as they are, with no gamma curve.
    assert.deepEqual(firstRow((await all(floats)).pixels.data, 3, 8), want);
    assert.deepEqual(Array.from((await readImage(signed, { channels: 1 })).data), Array.from(pixels.data));
  });

  it('refuses a float TIFF with NaN by name, and states the rule for the other types', async () => {
    const path = join(dir, 'nan.tif');
    writeFileSync(path, writeTiff({ width: W, height: H, samples: 1, bits: 32, sampleFormat: 3, data: new Float32Array(W * H).fill(Number.NaN) }));
    const message = /nan\.tif: cannot map its pixels to 0\.\.255: 32-bit float samples include NaN or infinite values/;
    await assert.rejects(openImageSource(path), message);
    await assert.rejects(readImage(path), message);
    assert.match(sampleScaling('complex', 0, 1) as string, /complex samples/);
    assert.deepEqual(sampleScaling('int', 5, 5), { multiply: 0, add: 0, description: '32-bit signed samples all 5 (no contrast), read as 0' });
  });
});

describe('EXIF orientation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-orientation-'));
  // Stored 400 x 300 with a bright 100 x 50 block at the stored top left; orientation 6 (rotate 90 degrees clockwise
  // to view) shows it 300 x 400 with the block at the top right: x 250..299, y 0..99.
  const stored = new Uint8Array(400 * 300 * 3);
  for (let y = 0; y < 50; y++) stored.fill(255, y * 400 * 3, (y * 400 + 100) * 3);
  const inBlock = (x: number, y: number) => x >= 250 && y < 100;
  const writeOriented = (path: string) => sharp(stored, { raw: { width: 400, height: 300, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(path);

  /** The share of pixels on the wrong side of 128 (the upright image's block is bright, the rest dark). */
  const wrongShare = (r: { width: number; height: number; channels: number; data: Uint8Array }, scale = 1) => {
    assert.deepEqual([r.width, r.height], [300, 400]);
    let wrong = 0;
    for (let y = 0; y < 400; y++) for (let x = 0; x < 300; x++) if (r.data[(y * 300 + x) * r.channels] * scale > 128 !== inBlock(x, y)) wrong++;
    return wrong / (300 * 400);
  };

  it('reads a JPEG with orientation 6 upright, whole, through its tiled copy and for training alike', async () => {
    const path = join(dir, 'phone.jpg');
    await writeOriented(path);
    assert.equal((await sharp(path).metadata()).orientation, 6);
    for (const inMemoryPixels of [Infinity, 0]) assert.equal(wrongShare((await all(path, { inMemoryPixels })).pixels), 0, `inMemoryPixels ${inMemoryPixels}`);
    assert.equal(wrongShare(await readImage(path)), 0, 'readImage');
    const info = await readImageInfo(path);
    assert.deepEqual([info.width, info.height], [300, 400]);
    assert.equal(wrongShare(await readMask(path), 255), 0, 'readMask');
  });

  it('writes the mask, objects and overlay of an oriented JPEG in the upright image', async () => {
    const path = join(dir, 'cells.jpg');
    await writeOriented(path);
    const threshold: SegmentationNetwork = async (inputs) =>
      inputs.map((x) => Float32Array.from({ length: x.width * x.height }, (_, i) => (x.data[i * x.channels] > 128 ? 1 : 0)));
    const out = join(dir, 'out', 'cells');
    const summary = await predictImage(path, out, { size: 64, channels: 3, rough: threshold, fine: threshold, scale: { factorX: 1, factorY: 1 } });
    assert.deepEqual([summary.width, summary.height, summary.objects], [300, 400, 1]);
    // The fine crop goes through 64 x 64 and back: its edges may move by a pixel or two.
    assert.ok(wrongShare(await readMask(join(out, 'mask.png')), 255) < 0.01, 'mask.png upright');
    const box = readFileSync(join(out, 'objects.csv'), 'utf8').trim().split('\n')[1].split(',').slice(2, 6).map(Number);
    for (const [i, want] of [250, 0, 50, 100].entries()) assert.ok(Math.abs(box[i] - want) <= 2, `bounding box ${box} (left, top, width, height)`);
    const overlay = await sharp(join(out, 'overlay.png')).metadata();
    assert.deepEqual([overlay.width, overlay.height], [300, 400]);
  });
});

describe('OME-TIFF series', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-ome-'));
  const gray = (width: number, height: number, value: (x: number, y: number) => number) => ({
    width,
    height,
    samples: 1,
    bits: 8 as const,
    data: Uint8Array.from({ length: width * height }, (_, i) => value(i % width, Math.floor(i / width))),
  });
  const ome = (images: { name: string; x: number; y: number; ifd: number }[]) =>
    `<?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">` +
    images
      .map((im, i) => `<Image ID="Image:${i}" Name="${im.name}"><Pixels ID="Pixels:${i}" DimensionOrder="XYCZT" Type="uint8" SizeX="${im.x}" SizeY="${im.y}" SizeC="1" SizeZ="1" SizeT="1"><Channel ID="Channel:${i}:0" SamplesPerPixel="1"/><TiffData IFD="${im.ifd}" PlaneCount="1"/></Pixels></Image>`)
      .join('') +
    `</OME>`;
  // Series 0: a 64 x 64 label image (all 200); series 1: the 256 x 192 image (a ramp) with a 2x-reduced SubIFD;
  // series 2: a 32 x 32 thumbnail.
  const label = gray(64, 64, () => 200);
  const image = gray(256, 192, (x) => x % 200);
  const reduced = gray(128, 96, (x) => (2 * x) % 200);
  const thumb = gray(32, 32, () => 50);
  const path = join(dir, 'slide.ome.tif');
  writeFileSync(
    path,
    writeTiff(label, {
      pages: [image, thumb],
      description: ome([
        { name: 'label', x: 64, y: 64, ifd: 0 },
        { name: 'slide', x: 256, y: 192, ifd: 1 },
        { name: 'thumbnail', x: 32, y: 32, ifd: 2 },
      ]),
    }),
  );

  it('segments the series with the largest image, not the first, and says so', async () => {
    const notes: string[] = [];
    const { source, pixels } = await all(path, { note: (l) => notes.push(l) });
    assert.deepEqual([source.width, source.height], [256, 192]);
    assert.deepEqual(Array.from(pixels.data.subarray(3 * 10, 3 * 11)), [10, 10, 10]);
    assert.deepEqual(notes, [`${path}: 3 series; segmenting series 1 'slide' (256 x 192), the largest; --series N to choose`]);
    // The 32 x 32 thumbnail has another aspect; the label has none of the image's pixels: neither is a pyramid level.
    assert.deepEqual(source.levels.map((l) => [l.width, l.height]), [[256, 192]]);
  });

  it('segments the series --series names, and refuses one the file does not have', async () => {
    const notes: string[] = [];
    const { source, pixels } = await all(path, { series: 0, note: (l) => notes.push(l) });
    assert.deepEqual([source.width, source.height, pixels.data[0]], [64, 64, 200]);
    assert.deepEqual(notes, [`${path}: 3 series; segmenting series 0 'label' (64 x 64), as --series asks`]);
    await assert.rejects(openImageSource(path, { series: 3 }), /slide\.ome\.tif: --series 3, but this file has 3 series \(0 to 2\)/);
    const plain = join(dir, 'plain.tif');
    writeFileSync(plain, writeTiff(image, { pages: [reduced] }));
    await assert.rejects(openImageSource(plain, { series: 1 }), /plain\.tif: --series 1, but this file has 1 series \(it is not an OME-TIFF/);
    const png = join(dir, 'one.png');
    await sharp(Buffer.alloc(12), { raw: { width: 2, height: 2, channels: 3 } }).png().toFile(png);
    await assert.rejects(openImageSource(png, { series: 1 }), /one\.png: --series 1, but this PNG file has one image/);
  });

  it("uses a series' SubIFDs as its pyramid", async () => {
    const pyramid = join(dir, 'pyramid.ome.tif');
    // Series 0: the image with its reduced copy as a SubIFD; series 1: the label, whose aspect is not the image's.
    writeFileSync(pyramid, writeTiff(image, { subIfds: [reduced], pages: [label], description: ome([{ name: 'slide', x: 256, y: 192, ifd: 0 }, { name: 'label', x: 64, y: 64, ifd: 1 }]) }));
    const source = await openImageSource(pyramid);
    assert.deepEqual(source.levels.map((l) => [l.width, l.height]), [[256, 192], [128, 96]]);
    assert.deepEqual(Array.from((await source.read({ left: 10, top: 0, width: 1, height: 1 }, 1)).data), [20, 20, 20]);
  });

  it('reads the series of OME-XML with a prefix, entities and a multi-file dataset', () => {
    const xml = `<ome:OME xmlns:ome="x"><ome:Image ID="Image:0" Name="a &amp; b"><ome:Pixels SizeX="5" SizeY="6"><ome:TiffData IFD="3"/><ome:TiffData IFD="2"><ome:UUID FileName="other.ome.tif">urn</ome:UUID></ome:TiffData></ome:Pixels></ome:Image><ome:ImageRef ID="x"/></ome:OME>`;
    assert.deepEqual(omeImagesOf(xml, 'this.ome.tif'), [{ name: 'a & b', ifd: 2, sizeX: 5, sizeY: 6, inFile: 'other.ome.tif' }]);
    assert.equal(omeImagesOf('ImageJ=1.54f\nimages=3'), undefined);
  });
});

describe('corrupt JPEG data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-jpeg-'));
  const pixels = (w: number, h: number) => Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 31 + (i >> 7)) % 251);

  it('refuses a JPEG with 300 zeroed bytes mid-file, which libvips decodes into garbage without a warning', async () => {
    const jpeg = await sharp(pixels(640, 480), { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const zeroed = Buffer.from(jpeg);
    zeroed.fill(0, zeroed.length >> 1, (zeroed.length >> 1) + 300);
    const path = join(dir, 'zeroed.jpg');
    writeFileSync(path, zeroed);
    const message = /zeroed\.jpg: cannot read this image \(Corrupt JPEG data: \d+ extraneous bytes before marker 0xd9\): the file is damaged/;
    await assert.rejects(readImage(path), message);
    await assert.rejects(readMask(path), message);
    for (const inMemoryPixels of [Infinity, 0]) await assert.rejects(openImageSource(path, { inMemoryPixels, tempDir: dir }), message);
    assert.deepEqual(readdirSync(dir), ['zeroed.jpg'], 'no temporary copy left');
  });

  it('passes valid JPEGs of every common kind', async () => {
    const raw = () => sharp(pixels(333, 217), { raw: { width: 333, height: 217, channels: 3 } });
    const kinds = {
      '4:2:0': raw().jpeg({ quality: 75 }),
      '4:4:4': raw().jpeg({ quality: 95, chromaSubsampling: '4:4:4' }),
      gray: raw().greyscale().jpeg(),
      progressive: raw().jpeg({ progressive: true }),
      'optimised tables': raw().jpeg({ optimiseCoding: true, mozjpeg: true }),
    };
    for (const [kind, image] of Object.entries(kinds)) assert.equal(await jpegDataProblem(await image.toBuffer()), undefined, kind);
    // And finds damage in each of the sequential ones (the progressive one libvips refuses itself).
    const truncated = await kinds['4:2:0'].toBuffer();
    assert.match((await jpegDataProblem(truncated.subarray(0, truncated.length - 100))) ?? '', /premature end of data segment|ends before/);
  });
});

describe('images above sharp’s pixel limit', () => {
  it('reads a 16,400 x 16,401 PNG (269 megapixels, just above the limit) through its tiled copy, and removes the copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-limit-'));
    const temp = mkdtempSync(join(tmpdir(), 'sts-limit-temp-'));
    const path = join(dir, 'huge.png');
    writeFileSync(path, constantGrayPng(16_400, 16_401, 90));
    const source = await openImageSource(path, { tempDir: temp, channels: 1 });
    try {
      assert.deepEqual([source.width, source.height], [16_400, 16_401]);
      assert.equal(readdirSync(temp).length, 1, 'the tiled copy, while open');
      assert.deepEqual(Array.from((await source.read({ left: 16_398, top: 16_399, width: 2, height: 2 })).data), [90, 90, 90, 90]);
    } finally {
      await source.close();
    }
    assert.deepEqual(readdirSync(temp), []);
    rmSync(dir, { recursive: true, force: true });
    rmSync(temp, { recursive: true, force: true });
  });

  it('removes the tiled copy when the process exits while it is open (a second Ctrl-C)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-exit-'));
    const path = join(dir, 'image.png');
    writeFileSync(path, constantGrayPng(300, 201, 90));
    const temp = join(dir, 'temp');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { mkdirSync, readdirSync } from 'node:fs';
      import { openImageSource } from ${JSON.stringify(fileURLToPath(new URL('../../src/io/file-image-source.js', import.meta.url)))};
      mkdirSync(${JSON.stringify(temp)});
      await openImageSource(${JSON.stringify(path)}, { inMemoryPixels: 0, tempDir: ${JSON.stringify(temp)} });
      if (readdirSync(${JSON.stringify(temp)}).length !== 1) process.exit(3);
      process.exit(130);
    `], { encoding: 'utf8' });
    assert.equal(child.status, 130, child.stderr);
    assert.deepEqual(readdirSync(temp), []);
    rmSync(dir, { recursive: true, force: true });
  });
});
