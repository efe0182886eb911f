/**
 * A large image as a pixel source that is asked for windows, never for the whole image (the shape of geotiff.js's
 * and Viv's sources): tiled, pyramidal, OME and Big TIFFs are read window by window through libvips, which decodes
 * only the tiles or strips a window touches. PNG and JPEG cannot be read at random: small ones are decoded once
 * and held; large ones are converted once, streaming, to a temporary tiled TIFF that is then read by windows.
 *
 * Every window comes back as 8-bit pixels with the channels the network takes, converted as `readImage` converts
 * training images (`image-decoding.ts`: 16-bit >> 8, gray replicated, alpha dropped, float and signed samples
 * scaled by their range, EXIF orientation applied), so that prediction sees what training saw. An OME-TIFF's
 * series is chosen by `tiff-series.ts`.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StsError } from '../errors.js';
import type { Raster } from '../geometry/raster.js';
import { type ImageSource, type PyramidLevel, pixelSizeOfDensity, pyramidLevelsOf } from '../types/image-source.js';
import { type ImageScaling, decodeTo8Bit, openImageFile, readImageBytes, scalingOf } from './image-decoding.js';
import { rasterImageSource, windowOf } from './raster-image-source.js';
import { chooseTiffSeries } from './tiff-series.js';

export interface OpenImageSourceOptions {
  readonly channels?: 1 | 3;
  /** PNG / JPEG images up to this many pixels are decoded once and held; larger ones are converted to tiled TIFF. */
  readonly inMemoryPixels?: number;
  /** Where the temporary tiled copy of a large PNG / JPEG goes (default: the OS temporary folder). */
  readonly tempDir?: string;
  /** Which series of an OME-TIFF (0-based); default: the one with the largest image. */
  readonly series?: number;
  /** Told what was chosen or converted for this image (a series, a scaling of float samples), one line each. */
  readonly note?: (line: string) => void;
}

const FORMATS = ['tiff', 'png', 'jpeg'];

export async function openImageSource(path: string, options: OpenImageSourceOptions = {}): Promise<ImageSource> {
  const channels = options.channels ?? 3;
  const inMemoryPixels = options.inMemoryPixels ?? 64 * 1024 * 1024;
  const note = options.note ?? (() => {});
  const meta = await openImageFile(path).metadata().catch((error: Error) => {
    throw new StsError(`${path}: cannot read this image (${error.message}); give a PNG, JPEG or TIFF file`);
  });
  if (!meta.format || !FORMATS.includes(meta.format) || !meta.width || !meta.height) {
    throw new StsError(`${path}: ${meta.format ?? 'unknown'} images are not supported; give a PNG, JPEG or TIFF file`);
  }
  const pixelSizeUm = pixelSizeOfDensity(meta.density);
  if (meta.format === 'tiff') return openTiff(path, meta.pages ?? 1, channels, pixelSizeUm, options.series, note);
  if (options.series !== undefined && options.series !== 0) {
    throw new StsError(`${path}: --series ${options.series}, but this ${meta.format.toUpperCase()} file has one image (series 0); leave --series out or give 0`);
  }
  const { width, height } = meta.autoOrient;
  if (width * height <= inMemoryPixels) {
    const bytes = await readImageBytes(path);
    const image = await decode(path, () => openImageFile(bytes), channels);
    return rasterImageSource(image, { path, pixelSizeUm });
  }
  // The whole file is walked for JPEG damage before minutes go into converting it.
  if (meta.format === 'jpeg') await readImageBytes(path);
  const copy = join(options.tempDir ?? tmpdir(), `sts-${randomBytes(6).toString('hex')}.tif`);
  const removeCopy = temporaryFile(copy);
  try {
    // Upright (EXIF orientation applied) in the copy, which has none: its windows are the upright image's.
    await openImageFile(path, { sequentialRead: true })
      .tiff({ tile: true, tileWidth: 512, tileHeight: 512, compression: 'lzw', bigtiff: true, pyramid: true })
      .toFile(copy)
      .catch((error: Error) => {
        throw new StsError(`${path}: cannot read this image (${error.message}); check that the file is complete`);
      });
    const copyMeta = await openImageFile(copy).metadata();
    const levels = await tiffLevels(copy, 0, width, height, copyMeta.pages ?? 1, 0, true);
    const source = windowSource(copy, width, height, channels, levels, pixelSizeUm, undefined);
    return { ...source, path, close: removeCopy };
  } catch (error) {
    await removeCopy();
    throw error;
  }
}

async function openTiff(path: string, pages: number, channels: 1 | 3, pixelSizeUm: number | undefined, asked: number | undefined, note: (line: string) => void): Promise<ImageSource> {
  const chosen = await chooseTiffSeries(path, pages, asked);
  if (chosen.note) note(chosen.note);
  const { page, width, height } = chosen.series;
  const pageMeta = await openImageFile(path, { page }).metadata();
  const levels = await tiffLevels(path, page, width, height, pages, pageMeta.subifds ?? 0, !chosen.ome);
  const scaling = await scalingOf(path, openImageFile(path, { page }), pageMeta);
  if (scaling) note(`${path}: ${scaling.description}`);
  const source = windowSource(path, width, height, channels, levels, pixelSizeUm, scaling);
  // A corrupt tile or an unsupported compression shows only when pixels are decoded: find out now, not mid-run.
  await source.read({ left: 0, top: 0, width: Math.min(16, width), height: Math.min(16, height) });
  return source;
}

/**
 * The pyramid of the image at `page` of a TIFF: its sub-IFDs and (unless an OME-TIFF, whose further pages are other
 * series or planes) the further pages, where they are downscaled copies of it.
 */
async function tiffLevels(path: string, page: number, width: number, height: number, pages: number, subifds: number, furtherPages: boolean): Promise<PyramidLevel[]> {
  const candidates: PyramidLevel[] = [];
  // Page 0 is libvips' default: left out, as the browser's reader leaves it out.
  const where: { page?: number; subifd?: number }[] = [
    ...Array.from({ length: subifds }, (_, i) => ({ ...(page > 0 ? { page } : {}), subifd: i })),
    ...(furtherPages ? Array.from({ length: pages - page - 1 }, (_, i) => ({ page: page + i + 1 })) : []),
  ];
  for (const c of where) {
    const m = await openImageFile(path, { page: c.page, tiff: { subifd: c.subifd } }).metadata().catch(() => undefined);
    if (m?.width && m.height) candidates.push({ width: m.autoOrient.width, height: m.autoOrient.height, ...c });
  }
  return [{ width, height, ...(page > 0 ? { page } : {}) }, ...pyramidLevelsOf(width, height, candidates)];
}

function windowSource(
  path: string,
  width: number,
  height: number,
  channels: 1 | 3,
  levels: PyramidLevel[],
  pixelSizeUm: number | undefined,
  scaling: ImageScaling | undefined,
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
        decode(path, () => openImageFile(path, { page: l.page, tiff: { subifd: l.subifd } }).extract(inside), channels, scaling),
      );
    },
    close: async () => {},
  };
}

async function decode(path: string, pipeline: () => ReturnType<typeof openImageFile>, channels: 1 | 3, scaling?: ImageScaling): Promise<Raster<Uint8Array>> {
  try {
    return await decodeTo8Bit(pipeline(), channels, scaling);
  } catch (error) {
    throw new StsError(`${path}: cannot decode this image (${(error as Error).message}); check that the file is complete and uses a common compression`);
  }
}

/** Temporary files not yet removed: removed at the process's exit too (a second Ctrl-C, `process.exit`). */
const temporaries = new Set<string>();

/** Registers a temporary file; returns its removal. */
function temporaryFile(path: string): () => Promise<void> {
  if (temporaries.size === 0) process.on('exit', removeTemporaries);
  temporaries.add(path);
  return async () => {
    await rm(path, { force: true });
    temporaries.delete(path);
    if (temporaries.size === 0) process.off('exit', removeTemporaries);
  };
}

function removeTemporaries(): void {
  for (const path of temporaries) rmSync(path, { force: true });
}
