/**
 * The page's TIFF source (web/src/source/tiff-source.ts: geotiff.js over a Blob), in Node on file-backed Blobs,
 * against Node's reader (sharp / libvips): the same levels, pixel size and pixels for every window of every level,
 * on the TIFF kinds slides come as; and a message for what it cannot read.
 */
import assert from 'node:assert/strict';
import { openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeArrayBuffer } from 'geotiff';
import sharp from 'sharp';
import { openImageSource } from '../../src/io/file-image-source.js';
import { seededRng } from '../../src/random.js';
import type { Box } from '../../src/geometry/raster.js';
import { openTiffSource } from '../../web/src/source/tiff-source.js';
import { writeTiff } from '../support/tiff-writer.js';

const W = 300;
const H = 200;

/** Smooth colour gradients with noise: JPEG keeps them close, and every pixel differs from its neighbours. */
function picture(channels: number): Buffer {
  const rng = seededRng(3);
  const data = Buffer.alloc(W * H * channels);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < channels; c++) data[(y * W + x) * channels + c] = (x * (c + 1) + y * 2 + rng.int(0, 9)) & 255;
    }
  }
  return data;
}

const BOXES: Box[] = [
  { left: 0, top: 0, width: W, height: H },
  { left: 63, top: 63, width: 70, height: 3 },
  { left: 250, top: 150, width: 80, height: 80 }, // beyond the right and bottom: zeros there
  { left: -5, top: -7, width: 20, height: 20 },
];

describe('the page\'s TIFF source reads as sts predict reads', () => {
  let dir: string;
  const files: Record<string, { path: string; tolerance?: number }> = {};
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sts-tiff-source-'));
    const rgb = () => sharp(picture(3), { raw: { width: W, height: H, channels: 3 } });
    const add = async (name: string, make: (path: string) => Promise<unknown>, tolerance?: number) => {
      const path = join(dir, `${name.replace(/\W+/g, '-')}.tif`);
      await make(path);
      files[name] = { path, tolerance };
    };
    await add('tiled deflate', (p) => rgb().tiff({ tile: true, tileWidth: 64, tileHeight: 64, compression: 'deflate' }).toFile(p));
    await add('pyramidal BigTIFF (pages)', (p) => rgb().tiff({ tile: true, tileWidth: 64, tileHeight: 64, pyramid: true, bigtiff: true, compression: 'lzw' }).toFile(p));
    const reduced = (k: number) => ({ width: Math.ceil(W / k), height: Math.ceil(H / k), samples: 3, bits: 8 as const, data: Uint8Array.from({ length: Math.ceil(W / k) * Math.ceil(H / k) * 3 }, (_, i) => (i * k) & 255) });
    await add('OME-style pyramid (sub-IFDs)', (p) => writeFile(p, writeTiff({ width: W, height: H, samples: 3, bits: 8, data: picture(3) }, { subIfds: [reduced(2), reduced(4)], tile: 32 })));
    await add('strips, LZW, with a resolution', (p) => rgb().tiff({ compression: 'lzw', xres: 2, yres: 2, resolutionUnit: 'cm' }).toFile(p));
    await add('16-bit gray', (p) => writeFile(p, writeTiff({ width: W, height: H, samples: 1, bits: 16, data: new Uint16Array(W * H).map((_, i) => (i * 37) % 65536) })));
    await add('16-bit RGB', (p) => writeFile(p, writeTiff({ width: W, height: H, samples: 3, bits: 16, data: new Uint16Array(W * H * 3).map((_, i) => (i * 101) % 65536) })));
    await add('16-bit gray + alpha', (p) => writeFile(p, writeTiff({ width: W, height: H, samples: 2, bits: 16, data: new Uint16Array(W * H * 2).map((_, i) => (i * 53) % 65536) })));
    await add('RGBA', (p) => writeFile(p, writeTiff({ width: W, height: H, samples: 4, bits: 8, data: picture(4) })));
    await add('gray, white is zero', (p) => writeFile(p, writeTiff({ width: W, height: H, samples: 1, bits: 8, data: picture(1), photometric: 0 })));
    // JPEG tiles: two decoders (libjpeg-turbo and geotiff.js's) round the inverse DCT differently (by 1 here).
    await add('JPEG tiles, pyramidal', (p) => rgb().tiff({ tile: true, tileWidth: 64, tileHeight: 64, pyramid: true, compression: 'jpeg', quality: 90 }).toFile(p), 2);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds the same levels and pixel size, and reads every window of every level to the same pixels', async () => {
    for (const [kind, { path, tolerance = 0 }] of Object.entries(files)) {
      const node = await openImageSource(path);
      const page = await openTiffSource(await openAsBlob(path), 'slide.tif');
      assert.deepEqual(page.levels, node.levels, `${kind}: levels`);
      assert.equal(page.pixelSizeUm, node.pixelSizeUm, `${kind}: pixel size`);
      assert.deepEqual([page.width, page.height, page.channels], [node.width, node.height, node.channels]);
      for (let level = 0; level < node.levels.length; level++) {
        const l = node.levels[level];
        const scaled = BOXES.map((b) => ({ left: Math.floor((b.left * l.width) / W), top: Math.floor((b.top * l.height) / H), width: Math.max(1, Math.round((b.width * l.width) / W)), height: Math.max(1, Math.round((b.height * l.height) / H)) }));
        for (const box of scaled) {
          const want = await node.read(box, level);
          const got = await page.read(box, level);
          assert.deepEqual([got.width, got.height, got.channels], [want.width, want.height, want.channels]);
          let worst = 0;
          for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - want.data[i]));
          assert.ok(worst <= tolerance, `${kind}, level ${level}, ${JSON.stringify(box)}: pixels differ by up to ${worst}`);
        }
      }
      if (kind.startsWith('pyramidal') || kind.startsWith('OME')) assert.ok(node.levels.length >= 3, `${kind} has a pyramid`);
    }
    assert.ok(files['strips, LZW, with a resolution'] && (await openImageSource(files['strips, LZW, with a resolution'].path)).pixelSizeUm! > 0, 'one file has a pixel size');
  });

  it('reads gray for one-channel networks', async () => {
    const path = files['tiled deflate'].path;
    const gray = await openTiffSource(await openAsBlob(path), 'slide.tif', { channels: 1 });
    const rgb = await openTiffSource(await openAsBlob(path), 'slide.tif');
    const g = await gray.read({ left: 10, top: 10, width: 4, height: 1 });
    const c = await rgb.read({ left: 10, top: 10, width: 4, height: 1 });
    assert.equal(g.channels, 1);
    assert.deepEqual(Array.from(g.data), [0, 1, 2, 3].map((i) => Math.round(0.299 * c.data[i * 3] + 0.587 * c.data[i * 3 + 1] + 0.114 * c.data[i * 3 + 2])));
  });

  it('reads the same pixels through a cache too small to hold a row of tiles as with the default one', async () => {
    // Windows in the fine pass's order (by top), overlapping tiles of 64 x 64 and the image's edges.
    const windows: Box[] = [];
    for (let top = -10; top < H; top += 23) for (let left = -10; left < W; left += 37) windows.push({ left, top, width: 41, height: 29 });
    for (const kind of ['tiled deflate', 'pyramidal BigTIFF (pages)', 'strips, LZW, with a resolution']) {
      const blob = await openAsBlob(files[kind].path);
      const tiny = await openTiffSource(blob, 'slide.tif', { tileCacheBytes: 1 });
      const roomy = await openTiffSource(blob, 'slide.tif');
      for (const level of [0, tiny.levels.length - 1]) {
        for (const box of windows) {
          const [a, b] = await Promise.all([tiny.read(box, level), roomy.read(box, level)]);
          assert.deepEqual(a.data, b.data, `${kind}, level ${level}, ${JSON.stringify(box)}`);
        }
      }
    }
  });

  it('names a truncated file, an unsupported compression and a float TIFF, saying what to do', async () => {
    const bytes = await readFile(files['pyramidal BigTIFF (pages)'].path);
    // Cut so that the header and first IFD survive: the tiles of the levels written last are missing.
    const truncated = join(dir, 'truncated.tif');
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await assert.rejects(openTiffSource(await openAsBlob(truncated), 'truncated.tif'), /truncated\.tif: (the file is truncated: it has [\d,]+ bytes but .* needs [\d,]+.*copy the file again|cannot be read as a TIFF .*truncated or damaged)/);
    const cutHeader = join(dir, 'cut-header.tif');
    await writeFile(cutHeader, bytes.subarray(0, 6));
    await assert.rejects(openTiffSource(await openAsBlob(cutHeader), 'cut-header.tif'), /cut-header\.tif: cannot be read as a TIFF/);

    const j2k = join(dir, 'jpeg2000.tif');
    await writeFile(j2k, withCompression(await readFile(files['tiled deflate'].path), 33003));
    await assert.rejects(openTiffSource(await openAsBlob(j2k), 'jpeg2000.svs'), /jpeg2000\.svs: unsupported TIFF \(compression 33003, JPEG 2000 \(Aperio\).*vips tiffsave/);
    const unknown = join(dir, 'unknown.tif');
    await writeFile(unknown, withCompression(await readFile(files['tiled deflate'].path), 60000));
    await assert.rejects(openTiffSource(await openAsBlob(unknown), 'unknown.tif'), /unknown\.tif: .*60000.*vips tiffsave/);

    const float = join(dir, 'float.tif');
    await writeFile(float, Buffer.from(writeArrayBuffer(new Float32Array(16 * 16), { width: 16, height: 16, SampleFormat: [3], BitsPerSample: [32] })));
    await assert.rejects(openTiffSource(await openAsBlob(float), 'float.tif'), /float\.tif: unsupported TIFF \(sample format 3.*\); save it as an 8- or 16-bit/);
  });
});

/** A classic little-endian TIFF with its first IFD's Compression tag (259) set to `code`. */
function withCompression(bytes: Buffer, code: number): Buffer {
  const out = Buffer.from(bytes);
  assert.equal(out.readUInt16LE(0), 0x4949, 'little-endian TIFF');
  const ifd = out.readUInt32LE(4);
  const entries = out.readUInt16LE(ifd);
  for (let i = 0; i < entries; i++) {
    const at = ifd + 2 + i * 12;
    if (out.readUInt16LE(at) === 259) {
      out.writeUInt16LE(code, at + 8);
      return out;
    }
  }
  throw new Error('no Compression tag');
}
