/**
 * PNG through fast-png rather than the browser's decoder: it gives the file's own samples (16 bits, no colour
 * management, no premultiplied alpha), so the page sees the exact pixels sharp sees in Node.
 */
import { convertIndexedToRgb, decode } from 'fast-png';
import { StsError, type Raster } from 'segment-then-segment/core';
import { assertFits, toRgb8 } from './to-rgb.js';

export function decodePngBytes(bytes: Uint8Array, name: string): Raster<Uint8Array> {
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (error) {
    throw new StsError(`${name}: looks like a PNG but cannot be decoded (${(error as Error).message}); the file may be truncated or damaged`);
  }
  assertFits(png.width, png.height, name);
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    return toRgb8(png.width, png.height, png.palette[0]?.length ?? 3, 8, rgb, name);
  }
  if (png.depth < 8) {
    // 1/2/4-bit gray: scale to 8 bits as libvips does, so a 1-bit 1 is white.
    const max = (1 << png.depth) - 1;
    const scaled = Uint8Array.from(png.data, (v) => Math.round((v * 255) / max));
    return toRgb8(png.width, png.height, png.channels, 8, scaled, name);
  }
  return toRgb8(png.width, png.height, png.channels, png.depth === 16 ? 16 : 8, png.data, name);
}
