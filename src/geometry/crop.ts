/** Cutting a box out of an image and resizing it to the fine network's input in one pass. */
import { ArgumentError } from '../errors.js';
import { type Box, type Raster, assertPositiveInteger } from './raster.js';
import { type ResizeMode, nearestSourceIndices, resizeBilinear } from './resize.js';

/**
 * The pixels of `image` inside `box`, resized to `width` x `height` as float32. Pixels of the box outside the
 * image read as 0, as torchvision's `crop` pads. With `nearest` this equals crop-then-`F.interpolate` exactly
 * but never materialises the full-resolution crop.
 */
export function cropResize(
  image: Raster,
  box: Box,
  width: number,
  height: number,
  mode: ResizeMode = 'nearest',
): Raster<Float32Array> {
  assertBox(box, 'box');
  assertPositiveInteger(width, 'width');
  assertPositiveInteger(height, 'height');
  if (mode === 'bilinear') return resizeBilinear(crop(image, box), width, height);
  if (mode !== 'nearest') throw new ArgumentError('mode', `unknown resize mode '${String(mode)}'`);
  const c = image.channels;
  const rows = nearestSourceIndices(box.height, height);
  const cols = nearestSourceIndices(box.width, width);
  // Absolute source offsets per output column; -1 marks columns outside the image (they stay 0).
  const colOffset = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    const sx = box.left + cols[x];
    colOffset[x] = sx >= 0 && sx < image.width ? sx * c : -1;
  }
  const out = new Float32Array(width * height * c);
  const s = image.data;
  const rowStride = image.width * c;
  for (let y = 0; y < height; y++) {
    const sy = box.top + rows[y];
    if (sy < 0 || sy >= image.height) continue;
    const srow = sy * rowStride;
    let o = y * width * c;
    if (c === 1) {
      for (let x = 0; x < width; x++, o++) {
        const off = colOffset[x];
        if (off >= 0) out[o] = s[srow + off];
      }
    } else {
      for (let x = 0; x < width; x++, o += c) {
        const off = colOffset[x];
        if (off >= 0) for (let k = 0; k < c; k++) out[o + k] = s[srow + off + k];
      }
    }
  }
  return { width, height, channels: c, data: out };
}

/** The pixels of `image` inside `box` as float32, zero outside the image. */
export function crop(image: Raster, box: Box): Raster<Float32Array> {
  assertBox(box, 'box');
  const c = image.channels;
  const out = new Float32Array(box.width * box.height * c);
  const x0 = Math.max(0, box.left);
  const x1 = Math.min(image.width, box.left + box.width);
  for (let y = Math.max(0, box.top); y < Math.min(image.height, box.top + box.height); y++) {
    if (x1 <= x0) break;
    const from = (y * image.width + x0) * c;
    out.set(image.data.subarray(from, from + (x1 - x0) * c), ((y - box.top) * box.width + (x0 - box.left)) * c);
  }
  return { width: box.width, height: box.height, channels: c, data: out };
}

export function assertBox(box: Box, name: string): void {
  if (box === null || typeof box !== 'object') throw new ArgumentError(name, 'must be { left, top, width, height }');
  if (!Number.isInteger(box.left) || !Number.isInteger(box.top)) {
    throw new ArgumentError(name, `left and top must be integers, got ${box.left}, ${box.top}`);
  }
  assertPositiveInteger(box.width, `${name}.width`);
  assertPositiveInteger(box.height, `${name}.height`);
}
