/**
 * PNG and JPEG files, which cannot be read by windows, decoded whole into an 8-bit RGB raster (up to MAX_PIXELS);
 * and the format of any file the user opens, told by its first bytes, not its name. TIFFs are never decoded whole:
 * they are read by windows (source/tiff-source.ts).
 */
import { StsError, type Raster } from 'segment-then-segment/core';
import { decodePngBytes } from './png.js';
import { assertFits, toRgb8 } from './to-rgb.js';

export type Format = 'png' | 'tiff' | 'jpeg' | 'other-image' | 'unknown';

export function sniffFormat(head: Uint8Array): Format {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'png';
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a) || starts(0x49, 0x49, 0x2b, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2b)) {
    return 'tiff';
  }
  if (starts(0xff, 0xd8, 0xff)) return 'jpeg';
  if (starts(0x42, 0x4d) || starts(0x47, 0x49, 0x46) || (starts(0x52, 0x49, 0x46, 0x46) && head[8] === 0x57)) return 'other-image';
  return 'unknown';
}

/** A PNG, JPEG (or BMP, GIF, WebP) file decoded whole; `head` is its first 32 bytes. */
export async function decodeRaster(file: File, format: Exclude<Format, 'tiff' | 'unknown'>, head: Uint8Array, name: string): Promise<Raster<Uint8Array>> {
  if (format === 'png') {
    // The size is in the header: a PNG too large to decode is refused before its bytes are read.
    if (head.length >= 24) {
      const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
      assertFits(view.getUint32(16), view.getUint32(20), name);
    }
    return decodePngBytes(new Uint8Array(await file.arrayBuffer()), name);
  }
  return decodeWithBrowser(file, name);
}

/** JPEG (and BMP, GIF, WebP) through the browser's own decoder, without colour management, as libvips reads them. */
async function decodeWithBrowser(file: File, name: string): Promise<Raster<Uint8Array>> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new StsError(`${name}: cannot be decoded as an image (damaged, not really a JPEG, or too large for this browser); open a PNG, JPEG or TIFF file`);
  }
  try {
    assertFits(bitmap.width, bitmap.height, name);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d');
    if (!context) throw new StsError(`${name}: this browser gave no 2-D canvas to decode with; try a recent Chrome, Edge or Firefox`);
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    return toRgb8(bitmap.width, bitmap.height, 4, 8, data, name);
  } finally {
    bitmap.close();
  }
}
