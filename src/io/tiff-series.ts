/**
 * Which image of a TIFF `sts predict` segments. An OME-TIFF may hold several series (a slide with its label and
 * macro photo, a plate's wells) in any order: the one with the largest image is taken unless `--series` names
 * another, and the choice is said. A TIFF without OME-XML is one series: its first page, the further pages being
 * its reduced copies or thumbnails (as libvips, QuPath and OpenSlide read them).
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { StsError } from '../errors.js';
import { openImageFile } from './image-decoding.js';
import { type OmeImage, omeImagesOf } from './ome-xml.js';

export interface TiffSeries {
  /** The IFD (libvips' page) of its full-resolution image. */
  readonly page: number;
  /** Its size as read (upright). */
  readonly width: number;
  readonly height: number;
  readonly name?: string;
}

export interface ChosenSeries {
  readonly series: TiffSeries;
  readonly index: number;
  readonly count: number;
  /** True for an OME-TIFF: its pyramid is in SubIFDs only, further pages being other series or planes. */
  readonly ome: boolean;
  /** What was chosen and why, when there was a choice. */
  readonly note?: string;
}

/** The series of `path` to read: `asked` (0-based), or the one with the largest image. */
export async function chooseTiffSeries(path: string, pages: number, asked?: number): Promise<ChosenSeries> {
  const images = omeImagesOf(await readTiffDescription(path), basename(path));
  if (!images || images.length === 0) {
    if (asked !== undefined && asked !== 0) {
      throw new StsError(`${path}: --series ${asked}, but this file has 1 series (it is not an OME-TIFF: its further pages are read as reduced copies of the first); leave --series out or give 0`);
    }
    return { series: await seriesAt(path, 0), index: 0, count: 1, ome: false };
  }
  const readable = images.map((image, index) => ({ image, index })).filter(({ image }) => !image.inFile && image.ifd < pages);
  const elsewhere = images.length - readable.length;
  const series = await Promise.all(readable.map(({ image }) => seriesAt(path, image.ifd, image)));
  const count = images.length;
  let index: number;
  if (asked !== undefined) {
    if (!Number.isInteger(asked) || asked < 0 || asked >= count) {
      throw new StsError(`${path}: --series ${asked}, but this file has ${count} series (0 to ${count - 1}); give one of those or leave --series out`);
    }
    if (!readable.some((r) => r.index === asked)) {
      throw new StsError(`${path}: series ${asked} is stored in ${images[asked].inFile ?? 'an IFD this file does not have'}; segment that file instead`);
    }
    index = asked;
  } else {
    if (series.length === 0) throw new StsError(`${path}: none of its ${count} OME series is stored in this file; segment the files that hold them`);
    // The largest image; the first of equals.
    let best = 0;
    for (let i = 1; i < series.length; i++) if (series[i].width * series[i].height > series[best].width * series[best].height) best = i;
    index = readable[best].index;
  }
  const chosen = series[readable.findIndex((r) => r.index === index)];
  const what = `series ${index}${chosen.name ? ` '${chosen.name}'` : ''} (${chosen.width} x ${chosen.height})`;
  const note =
    count === 1
      ? undefined
      : `${path}: ${count} series; segmenting ${what}, ${asked === undefined ? 'the largest; --series N to choose' : 'as --series asks'}` +
        (elsewhere > 0 ? ` (${elsewhere} stored in other files: not read)` : '');
  return { series: chosen, index, count, ome: true, ...(note ? { note } : {}) };
}

async function seriesAt(path: string, page: number, image?: OmeImage): Promise<TiffSeries> {
  const m = await openImageFile(path, { page }).metadata().catch((error: Error) => {
    throw new StsError(`${path}: cannot read its image ${page} (${error.message}); check that the file is complete`);
  });
  return { page, width: m.autoOrient.width, height: m.autoOrient.height, ...(image?.name ? { name: image.name } : {}) };
}

/** Longest ImageDescription read: OME-XML of large plates runs to megabytes; a header claiming more is not trusted. */
const MAX_DESCRIPTION = 64 * 1024 * 1024;

/** The ImageDescription (tag 270) of a TIFF's first IFD, classic or BigTIFF, either byte order; undefined if none. */
export async function readTiffDescription(path: string): Promise<string | undefined> {
  const file = await open(path, 'r');
  try {
    const read = async (at: number, length: number): Promise<Buffer> => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, at);
      if (bytesRead < length) throw new StsError(`${path}: the TIFF ends inside its header (it is incomplete)`);
      return buffer;
    };
    const header = await read(0, 16);
    const little = header.toString('latin1', 0, 2) === 'II';
    const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
    const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
    const u64 = (b: Buffer, at: number) => Number(little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at));
    const big = u16(header, 2) === 43;
    const ifd = big ? u64(header, 8) : u32(header, 4);
    const count = big ? u64(await read(ifd, 8), 0) : u16(await read(ifd, 2), 0);
    const entrySize = big ? 20 : 12;
    const entries = await read(ifd + (big ? 8 : 2), Math.min(count, 4096) * entrySize);
    for (let i = 0; i < Math.min(count, 4096); i++) {
      const at = i * entrySize;
      if (u16(entries, at) !== 270) continue;
      const length = big ? u64(entries, at + 4) : u32(entries, at + 4);
      if (length > MAX_DESCRIPTION) throw new StsError(`${path}: its TIFF ImageDescription claims ${length} bytes, more than sts reads (${MAX_DESCRIPTION}); the file may be damaged`);
      const inline = length <= (big ? 8 : 4);
      const text = inline ? entries.subarray(at + (big ? 12 : 8), at + (big ? 12 : 8) + length) : await read(big ? u64(entries, at + 12) : u32(entries, at + 8), length);
      return text.toString('utf8').replace(/\0+$/, '');
    }
    return undefined;
  } finally {
    await file.close();
  }
}
