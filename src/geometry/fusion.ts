/** Pasting the fine network's masks back into the full-resolution output. */
import { ArgumentError } from '../errors.js';
import { assertBox } from './crop.js';
import type { Box, Mask } from './raster.js';
import { type ResizeMode, nearestSourceIndices, resizeBilinear } from './resize.js';

/**
 * ORs one fine prediction into `canvas`: the `size` x `size` probability map is resized to the box (nearest, as the
 * reference, or bilinear), thresholded at `>= threshold` and set wherever it is foreground. Pixels of the box
 * outside the canvas are ignored. Overlapping boxes therefore union, never overwrite each other's foreground.
 */
export function fuseInto(
  canvas: Mask<Uint8Array>,
  fine: ArrayLike<number>,
  size: number,
  box: Box,
  { mode = 'nearest', threshold = 0.5 }: { mode?: ResizeMode; threshold?: number } = {},
): void {
  assertBox(box, 'box');
  if (fine.length !== size * size) {
    throw new ArgumentError('fine', `has ${fine.length} values; a ${size} x ${size} map has ${size * size}`);
  }
  let source: ArrayLike<number>;
  let rows: Int32Array;
  let cols: Int32Array;
  let stride: number;
  if (mode === 'nearest') {
    source = fine;
    rows = nearestSourceIndices(size, box.height);
    cols = nearestSourceIndices(size, box.width);
    stride = size;
  } else {
    const data = fine instanceof Float32Array ? fine : Float32Array.from(fine);
    source = resizeBilinear({ width: size, height: size, channels: 1, data }, box.width, box.height).data;
    rows = identity(box.height);
    cols = identity(box.width);
    stride = box.width;
  }
  const out = canvas.data;
  const W = canvas.width;
  for (let y = 0; y < box.height; y++) {
    const cy = box.top + y;
    if (cy < 0 || cy >= canvas.height) continue;
    const srow = rows[y] * stride;
    const orow = cy * W;
    for (let x = 0; x < box.width; x++) {
      const cx = box.left + x;
      if (cx < 0 || cx >= W) continue;
      if (source[srow + cols[x]] >= threshold) out[orow + cx] = 1;
    }
  }
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
