/**
 * Decoded samples to the 8-bit RGB raster the networks were trained on, with the same rules as the Node reader
 * (src/io/image-files.ts, after the reference's cv.imread): 16-bit values >> 8, gray replicated, alpha dropped.
 */
import { StsError, type Raster } from 'segment-then-segment/core';

export type Samples = Uint8Array | Uint8ClampedArray | Uint16Array;

export function toRgb8(width: number, height: number, channels: number, depth: 8 | 16, data: Samples, name: string): Raster<Uint8Array> {
  if (channels < 1 || channels > 4) {
    throw new StsError(`${name}: has ${channels} samples per pixel; this page reads gray, gray + alpha, RGB and RGBA images`);
  }
  const n = width * height;
  const out = new Uint8Array(n * 3);
  const shift = depth === 16 ? 8 : 0;
  // Gray (+ alpha) has its value in sample 0; RGB(A) in samples 0..2.
  const colour = channels >= 3;
  for (let i = 0; i < n; i++) {
    const base = i * channels;
    const r = data[base] >> shift;
    out[i * 3] = r;
    out[i * 3 + 1] = colour ? data[base + 1] >> shift : r;
    out[i * 3 + 2] = colour ? data[base + 2] >> shift : r;
  }
  return { width, height, channels: 3, data: out };
}

/**
 * PNG and JPEG cannot be read by windows, so the page decodes them whole: up to this many pixels. Larger images are
 * refused before anything large is allocated, with the conversion that lets the page stream them (a tiled TIFF).
 */
export const MAX_PIXELS = 64 * 1024 * 1024;

export function assertFits(width: number, height: number, name: string): void {
  if (!(width > 0 && height > 0)) throw new StsError(`${name}: the image has no pixels (${width} x ${height}); open another file`);
  if (width * height > MAX_PIXELS) {
    throw new StsError(
      `${name}: ${width} x ${height} is ${((width * height) / 1e6).toFixed(0)} megapixels, more than this page decodes whole from a PNG or JPEG ` +
        `(${(MAX_PIXELS / 1e6).toFixed(0)}); convert it to a tiled, pyramidal TIFF, which the page reads by windows at any size: ` +
        `'vips tiffsave in.png out.tif --tile --pyramid --compression lzw' (libvips), and open that`,
    );
  }
}

/**
 * RGB to one channel for gray networks: Rec. 601 luma, as OpenCV's gray conversion (libvips' differs by at most a
 * level or two). Gray images replicated to RGB come back unchanged.
 */
export function toGray(rgb: Raster<Uint8Array>): Raster<Uint8Array> {
  const n = rgb.width * rgb.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(0.299 * rgb.data[i * 3] + 0.587 * rgb.data[i * 3 + 1] + 0.114 * rgb.data[i * 3 + 2]);
  return { width: rgb.width, height: rgb.height, channels: 1, data: out };
}
