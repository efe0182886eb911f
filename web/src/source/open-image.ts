/**
 * Any image file the user opens, as the pipeline's `ImageSource`: a TIFF read by windows from the file (any size),
 * a PNG or JPEG decoded whole (up to the decode cap, beyond which the message says how to convert it). The format
 * is told by the file's first bytes. Both workers open the file this way, each for its own reads.
 */
import { type ImageSource, StsError, rasterImageSource } from 'segment-then-segment/core';
import { decodeRaster, sniffFormat } from '../decode/image.js';
import { toGray } from '../decode/to-rgb.js';
import { openTiffSource } from './tiff-source.js';

export interface OpenedImage {
  readonly source: ImageSource;
  /** 'tiff': read by windows from the file; 'raster': decoded whole. */
  readonly kind: 'tiff' | 'raster';
}

export async function openImage(file: File): Promise<OpenedImage> {
  const name = file.name || 'the file';
  const head = new Uint8Array(await file.slice(0, 32).arrayBuffer());
  const format = sniffFormat(head);
  if (format === 'tiff') return { source: await openTiffSource(file, name), kind: 'tiff' };
  if (format === 'unknown') throw new StsError(`${name}: is not an image this page can read (not PNG, JPEG or TIFF); open a PNG, JPEG or TIFF file`);
  return { source: rasterImageSource(await decodeRaster(file, format, head, name), { path: name }), kind: 'raster' };
}

/** The source as a gray network sees it: every window through `toGray` (sources read RGB). */
export function grayOf(source: ImageSource): ImageSource {
  return { ...source, channels: 1, read: async (box, level) => toGray(await source.read(box, level)) };
}
