/**
 * A large image as a pixel source that is asked for windows, never for the whole image (the shape of geotiff.js's
 * and Viv's sources): tiled, pyramidal, OME and Big TIFFs are read window by window through libvips, which decodes
 * only the tiles or strips a window touches. PNG and JPEG cannot be read at random: small ones are decoded once
 * and held; large ones are converted once, streaming, to a temporary tiled TIFF that is then read by windows.
 *
 * Every window comes back as 8-bit pixels with the channels the network takes, converted as `readImage` converts
 * training images (16-bit >> 8, gray replicated, alpha dropped), so that prediction sees what training saw.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { StsError } from '../errors.js';
import type { Raster } from '../geometry/raster.js';
import { type ImageSource, type PyramidLevel, pixelSizeOfDensity, pyramidLevelsOf } from '../types/image-source.js';
import { DECODE_FAIL_ON } from './image-files.js';
import { rasterImageSource, windowOf } from './raster-image-source.js';

export interface OpenImageSourceOptions {
  readonly channels?: 1 | 3;
  /** PNG / JPEG images up to this many pixels are decoded once and held; larger ones are converted to tiled TIFF. */
  readonly inMemoryPixels?: number;
  /** Where the temporary tiled copy of a large PNG / JPEG goes (default: the OS temporary folder). */
  readonly tempDir?: string;
}

const FORMATS = ['tiff', 'png', 'jpeg'];

export async function openImageSource(path: string, options: OpenImageSourceOptions = {}): Promise<ImageSource> {
  const channels = options.channels ?? 3;
  const inMemoryPixels = options.inMemoryPixels ?? 64 * 1024 * 1024;
  const meta = await sharp(path, { limitInputPixels: false }).metadata().catch((error: Error) => {
    throw new StsError(`${path}: cannot read this image (${error.message}); give a PNG, JPEG or TIFF file`);
  });
  if (!meta.format || !FORMATS.includes(meta.format) || !meta.width || !meta.height) {
    throw new StsError(`${path}: ${meta.format ?? 'unknown'} images are not supported; give a PNG, JPEG or TIFF file`);
  }
  const pixelSizeUm = pixelSizeOfDensity(meta.density);
  if (meta.format === 'tiff') {
    const levels = await tiffLevels(path, meta.width, meta.height, meta.pages ?? 1, meta.subifds ?? 0);
    const source = windowSource(path, meta.width, meta.height, channels, levels, pixelSizeUm);
    // A corrupt tile or an unsupported compression shows only when pixels are decoded: find out now, not mid-run.
    await source.read({ left: 0, top: 0, width: Math.min(16, meta.width), height: Math.min(16, meta.height) });
    return source;
  }
  if (meta.width * meta.height <= inMemoryPixels) {
    const image = await decode(sharp(path, { limitInputPixels: false, failOn: DECODE_FAIL_ON }), channels, path);
    return rasterImageSource(image, { path, pixelSizeUm });
  }
  const copy = join(options.tempDir ?? tmpdir(), `sts-${randomBytes(6).toString('hex')}.tif`);
  try {
    await sharp(path, { limitInputPixels: false, failOn: DECODE_FAIL_ON, sequentialRead: true })
      .tiff({ tile: true, tileWidth: 512, tileHeight: 512, compression: 'lzw', bigtiff: true, pyramid: true })
      .toFile(copy);
  } catch (error) {
    await rm(copy, { force: true });
    throw new StsError(`${path}: cannot read this image (${(error as Error).message}); check that the file is complete`);
  }
  const levels = await tiffLevels(copy, meta.width, meta.height, (await sharp(copy).metadata()).pages ?? 1, 0);
  const source = windowSource(copy, meta.width, meta.height, channels, levels, pixelSizeUm);
  return { ...source, path, close: () => rm(copy, { force: true }) };
}

/** The pyramid of a TIFF: further pages or sub-IFDs that are downscaled copies of the first page. */
async function tiffLevels(path: string, width: number, height: number, pages: number, subifds: number): Promise<PyramidLevel[]> {
  const candidates: PyramidLevel[] = [];
  const where: { page?: number; subifd?: number }[] = [
    ...Array.from({ length: subifds }, (_, i) => ({ subifd: i })),
    ...Array.from({ length: pages - 1 }, (_, i) => ({ page: i + 1 })),
  ];
  for (const c of where) {
    const m = await sharp(path, { limitInputPixels: false, page: c.page, tiff: { subifd: c.subifd } }).metadata().catch(() => undefined);
    if (m?.width && m.height) candidates.push({ width: m.width, height: m.height, ...c });
  }
  return [{ width, height }, ...pyramidLevelsOf(width, height, candidates)];
}

function windowSource(
  path: string,
  width: number,
  height: number,
  channels: 1 | 3,
  levels: PyramidLevel[],
  pixelSizeUm: number | undefined,
): ImageSource {
  return {
    path,
    width,
    height,
    channels,
    levels,
    pixelSizeUm,
    async read(box, level = 0) {
      const l = levels[level];
      return windowOf(box, l.width, l.height, channels, (inside) =>
        decode(sharp(path, { limitInputPixels: false, failOn: DECODE_FAIL_ON, page: l.page, tiff: { subifd: l.subifd } }).extract(inside), channels, path),
      );
    },
    close: async () => {},
  };
}

async function decode(pipeline: Sharp, channels: 1 | 3, path: string): Promise<Raster<Uint8Array>> {
  try {
    const p = pipeline.toColourspace(channels === 1 ? 'b-w' : 'srgb');
    const { data, info } = await (channels === 1 ? p.extractChannel(0) : p.removeAlpha())
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels where ${channels} were asked`);
    return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    throw new StsError(`${path}: cannot decode this image (${(error as Error).message}); check that the file is complete and uses a common compression`);
  }
}
