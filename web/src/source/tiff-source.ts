/**
 * A TIFF the user opened, as the pipeline's `ImageSource`, read by windows through geotiff.js from the `Blob`
 * itself: only the bytes of the tiles (or strips) a window touches are read, so a 40,000 x 40,000 slide is never
 * read whole. Tiled and striped, pyramidal (further pages) and OME (sub-IFD pyramids), BigTIFF, any level. It
 * behaves as Node's reader (src/io/file-image-source.ts) window for window: the same levels (one rule,
 * `pyramidLevelsOf`), 8-bit pixels converted as libvips converts them (16-bit >> 8, gray replicated, alpha dropped,
 * white-is-zero inverted), zeros outside the image, the same pixel size from the file's resolution.
 */
import GeoTIFF, { GeoTIFFImage } from 'geotiff';
import { type ImageSource, type PyramidLevel, type Raster, StsError, pixelSizeOfDensity, pyramidLevelsOf, windowOf } from 'segment-then-segment/core';
import { toGray, toRgb8, type Samples } from '../decode/to-rgb.js';
import { blobByteSource } from './blob-bytes.js';
import { DecodedTiles, readTilesThrough } from './decoded-tiles.js';

const PHOTOMETRIC_WHITE_IS_ZERO = 0;
const PHOTOMETRIC_BLACK_IS_ZERO = 1;
const PHOTOMETRIC_RGB = 2;
const PHOTOMETRIC_PALETTE = 3;
const SAMPLE_FORMAT_UINT = 1;

/**
 * Decoded tiles kept for the next windows, in bytes: two rows of 256 x 256 RGB tiles across a 40,000-pixel slide, as
 * the fine pass reads its crops row by row (sorted by top, so a row's crops come in any order along it).
 */
const TILE_CACHE_BYTES = 64 * 1024 * 1024;

/** A strip decoded for every window it meets: above this size, windows would cost too much (and memory with them). */
const MAX_STRIP_BYTES = 64 * 1024 * 1024;

/** Compressions geotiff.js does not decode that slides use, named so the message says what the file holds. */
const COMPRESSION_NAMES: Record<number, string> = {
  2: 'CCITT RLE', 3: 'CCITT fax 3', 4: 'CCITT fax 4', 6: 'old-style JPEG', 33003: 'JPEG 2000 (Aperio)', 33005: 'JPEG 2000 (Aperio)',
  34712: 'JPEG 2000', 34892: 'lossy JPEG (DNG)', 50002: 'JPEG XL', 52546: 'JPEG XL',
};

/** The command that makes any slide readable here, in every message that asks for a conversion. */
export const CONVERT_ADVICE = "convert it to a tiled, pyramidal TIFF, e.g. 'vips tiffsave in.svs out.tif --tile --pyramid --compression jpeg --Q 90' (libvips), and open that";

interface Level extends PyramidLevel {
  readonly image: GeoTIFFImage;
}

export interface TiffSourceOptions {
  /** 3 for RGB networks (default), 1 for gray ones. */
  readonly channels?: 1 | 3;
  /** Bytes of decoded tiles kept between reads (default 64 MB). */
  readonly tileCacheBytes?: number;
}

export async function openTiffSource(file: Blob, name: string, { channels = 3, tileCacheBytes = TILE_CACHE_BYTES }: TiffSourceOptions = {}): Promise<ImageSource> {
  const damaged = (why: string) => new StsError(`${name}: cannot be read as a TIFF (${why}); the file may be truncated or damaged: copy it again, or ${CONVERT_ADVICE}`);
  let tiff: GeoTIFF;
  let pages: GeoTIFFImage[];
  try {
    tiff = await GeoTIFF.fromSource(blobByteSource(file) as never);
    pages = await imageChain(tiff);
  } catch (error) {
    throw damaged((error as Error).message);
  }
  const first = pages[0];
  const width = first.getWidth();
  const height = first.getHeight();
  if (!(width > 0 && height > 0)) throw new StsError(`${name}: the image has no pixels (${width} x ${height}); open another file`);
  const candidates: Level[] = [
    ...(await subImages(tiff, first).catch((error: Error) => { throw damaged(`its sub-IFDs: ${error.message}`); })).map((image, i) => ({ width: image.getWidth(), height: image.getHeight(), subifd: i, image })),
    ...pages.slice(1).map((image, i) => ({ width: image.getWidth(), height: image.getHeight(), page: i + 1, image })),
  ];
  const levels: Level[] = [{ width, height, image: first }, ...pyramidLevelsOf(width, height, candidates)];
  for (const level of levels) await checkLevel(level, file.size, name);
  const tileBytes = Math.max(...levels.map(({ image }) => image.getTileWidth() * image.getTileHeight() * image.getBytesPerPixel()));
  const tiles = new DecodedTiles<Awaited<ReturnType<GeoTIFFImage['getTileOrStrip']>>>(Math.max(2, Math.floor(tileCacheBytes / tileBytes)));
  // readRasters asks the image for each tile it needs and only reads the tile's data, so a shared decoded tile is safe.
  levels.forEach(({ image }, i) => readTilesThrough(image, tiles, i));
  const source: ImageSource = {
    path: name,
    width,
    height,
    channels,
    levels: levels.map(({ width: w, height: h, page, subifd }) => ({ width: w, height: h, ...(page !== undefined ? { page } : {}), ...(subifd !== undefined ? { subifd } : {}) })),
    pixelSizeUm: pixelSizeOfDensity(await densityOf(first)),
    read(box, level = 0) {
      const l = levels[level];
      if (!l) throw new StsError(`${name}: has no pyramid level ${level} (it has ${levels.length})`);
      return windowOf(box, l.width, l.height, channels, (inside) => readWindow(l.image, inside, channels, name));
    },
    close: async () => {},
  };
  // A bad tile or an unsupported compression shows only when pixels are decoded: find out now, not mid-run, and on
  // every level, since any of them may be read.
  for (let i = 0; i < levels.length; i++) await source.read({ left: 0, top: 0, width: Math.min(16, levels[i].width), height: Math.min(16, levels[i].height) }, i);
  return source;
}

/** Every image of the file's IFD chain, in order. */
async function imageChain(tiff: GeoTIFF): Promise<GeoTIFFImage[]> {
  const count = await tiff.getImageCount();
  return Promise.all(Array.from({ length: count }, (_, i) => tiff.getImage(i)));
}

/** The images an OME-TIFF keeps in the first image's SubIFDs (its pyramid), which the IFD chain does not list. */
async function subImages(tiff: GeoTIFF, first: GeoTIFFImage): Promise<GeoTIFFImage[]> {
  if (!first.fileDirectory.hasTag('SubIFDs')) return [];
  const offsets = (await first.fileDirectory.loadValue('SubIFDs')) as ArrayLike<number | bigint> | number;
  const list = typeof offsets === 'number' ? [offsets] : Array.from(offsets, Number);
  return Promise.all(list.map(async (offset) => new GeoTIFFImage(await tiff.parser.parseFileDirectoryAt(offset), tiff.littleEndian, false, tiff.source)));
}

/** What this page can decode of a level, checked before any pixel is read; the message says what to do otherwise. */
async function checkLevel(level: Level, fileSize: number, name: string): Promise<void> {
  const { image } = level;
  const where = level.page !== undefined ? `page ${level.page}` : level.subifd !== undefined ? `sub-IFD ${level.subifd}` : 'the full-resolution image';
  const unsupported = (why: string, advice = CONVERT_ADVICE) => new StsError(`${name}: unsupported TIFF (${why}); ${advice}`);
  const resave = 'save it as an 8- or 16-bit gray or RGB TIFF (tiled and pyramidal for a slide), PNG or JPEG and open that';
  const format = image.getSampleFormat(0);
  if (format !== SAMPLE_FORMAT_UINT) throw unsupported(`sample format ${format}: only unsigned integer samples are read`, resave);
  const bits = image.getBitsPerSample(0);
  const photometric = Number(image.fileDirectory.getValue('PhotometricInterpretation'));
  if (!(bits === 8 || bits === 16 || photometric === PHOTOMETRIC_PALETTE)) throw unsupported(`${bits}-bit samples in ${where}; 8- and 16-bit images are read`, resave);
  const compression = Number(image.fileDirectory.getValue('Compression') ?? 1);
  if (COMPRESSION_NAMES[compression]) throw unsupported(`compression ${compression}, ${COMPRESSION_NAMES[compression]}, in ${where}, which this page cannot decode`);
  // Every tile or strip must lie inside the file: a copy cut short would otherwise read as blank or garbage.
  const tiled = image.isTiled;
  const offsets = (await image.fileDirectory.loadValue(tiled ? 'TileOffsets' : 'StripOffsets')) as ArrayLike<number | bigint>;
  const counts = (await image.fileDirectory.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts')) as ArrayLike<number | bigint>;
  let end = 0;
  for (let i = 0; i < offsets.length; i++) end = Math.max(end, Number(offsets[i]) + Number(counts[i]));
  if (end > fileSize) {
    throw new StsError(
      `${name}: the file is truncated: it has ${fileSize.toLocaleString('en')} bytes but ${where} needs ${end.toLocaleString('en')}; the download or copy was incomplete: copy the file again`,
    );
  }
  if (!tiled) {
    const stripBytes = image.getWidth() * image.getTileHeight() * image.getBytesPerPixel();
    if (stripBytes > MAX_STRIP_BYTES) {
      throw unsupported(`${where} is stored in strips of ${(stripBytes / 2 ** 20).toFixed(0)} MB, each decoded for every window that meets it`);
    }
  }
}

/** The pixels of `box` (inside the level) as 8-bit gray or RGB, converted as libvips converts them. */
async function readWindow(image: GeoTIFFImage, box: { left: number; top: number; width: number; height: number }, channels: 1 | 3, name: string): Promise<Raster<Uint8Array>> {
  const window = [box.left, box.top, box.left + box.width, box.top + box.height];
  const photometric = Number(image.fileDirectory.getValue('PhotometricInterpretation'));
  let rgb: Raster<Uint8Array>;
  try {
    if ([PHOTOMETRIC_BLACK_IS_ZERO, PHOTOMETRIC_RGB, PHOTOMETRIC_WHITE_IS_ZERO].includes(photometric)) {
      const bits = image.getBitsPerSample(0);
      const data = (await image.readRasters({ window, interleave: true })) as unknown as Samples;
      if (photometric === PHOTOMETRIC_WHITE_IS_ZERO) {
        const max = bits === 16 ? 65535 : 255;
        for (let i = 0; i < data.length; i++) data[i] = max - data[i];
      }
      rgb = toRgb8(box.width, box.height, image.getSamplesPerPixel(), bits === 16 ? 16 : 8, data, name);
    } else {
      // Palette, YCbCr (JPEG-in-TIFF), CMYK and Lab: geotiff.js converts these to 8-bit RGB itself.
      rgb = toRgb8(box.width, box.height, 3, 8, (await image.readRGB({ window, interleave: true })) as unknown as Uint8Array, name);
    }
  } catch (error) {
    if (error instanceof StsError) throw error;
    throw new StsError(`${name}: a tile could not be decoded (${(error as Error).message}); the file may be damaged: copy it again, or ${CONVERT_ADVICE}`);
  }
  return channels === 1 ? toGray(rgb) : rgb;
}

/**
 * The file's resolution in pixels per inch as libvips (and so `sts predict`) reads it: XResolution in the file's
 * unit (inch by default; centimetre; none, taken as pixels per millimetre), none when it is 1 px/mm or less, rounded
 * as sharp rounds it.
 */
async function densityOf(image: GeoTIFFImage): Promise<number | undefined> {
  const raw = (await image.fileDirectory.loadValue('XResolution')) as number | ArrayLike<number> | undefined;
  if (raw === undefined) return undefined;
  const xres = typeof raw === 'number' ? raw : raw.length >= 2 ? raw[0] / raw[1] : raw[0];
  const unit = Number((await image.fileDirectory.loadValue('ResolutionUnit')) ?? 2);
  const perMm = unit === 3 ? xres / 10 : unit === 1 ? xres : xres / 25.4;
  return perMm > 1 ? Math.round(perMm * 25.4) : undefined;
}
