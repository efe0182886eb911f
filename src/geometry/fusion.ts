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
  const { source, rows, cols, stride } = boxSampling(fine, size, box, mode);
  const out = canvas.data;
  const W = canvas.width;
  const { x0, x1, y0, y1 } = spanOnCanvas(box, W, canvas.height);
  for (let y = y0; y < y1; y++) {
    const srow = rows[y] * stride;
    const orow = (box.top + y) * W + box.left;
    for (let x = x0; x < x1; x++) if (source[srow + cols[x]] >= threshold) out[orow + x] = 1;
  }
}

/**
 * Counts, per pixel of a `width` x `height` canvas, the crops that cover it (`cover`) and those whose map says
 * `>= threshold` there (`votes`): the object cores' fusion by majority or by any vote (pipeline/fine-results.ts's
 * `coreVote`; the default there is weighInto's centre-weighted mean).
 */
export function voteInto(
  votes: Uint16Array,
  cover: Uint16Array,
  width: number,
  height: number,
  fine: ArrayLike<number>,
  size: number,
  box: Box,
  { mode = 'nearest', threshold = 0.5 }: { mode?: ResizeMode; threshold?: number } = {},
): void {
  const { source, rows, cols, stride } = boxSampling(fine, size, box, mode);
  const { x0, x1, y0, y1 } = spanOnCanvas(box, width, height);
  for (let y = y0; y < y1; y++) {
    const srow = rows[y] * stride;
    const orow = (box.top + y) * width + box.left;
    for (let x = x0; x < x1; x++) {
      cover[orow + x]++;
      if (source[srow + cols[x]] >= threshold) votes[orow + x]++;
    }
  }
}

/**
 * Adds one crop's map to a centre-weighted mean over the crops that cover each pixel of a `width` x `height` canvas:
 * `sum` gains weight x value and `weight` the weight, which falls linearly from 1 at the box's centre to almost 0 at
 * its border (in x and in y, multiplied). Each crop is centred on the object the rough pass found, so where crops
 * overlap the one centred nearest a pixel counts most; a crop that cuts a neighbouring object at its border says
 * little about it (the fusion of object cores, pipeline/fine-results.ts). `weight` null: a second map of the same
 * crops whose weights are already summed (the flows' x beside their y).
 */
export function weighInto(
  sum: Float32Array,
  weight: Float32Array | null,
  width: number,
  height: number,
  fine: ArrayLike<number>,
  size: number,
  box: Box,
  { mode = 'nearest' }: { mode?: ResizeMode } = {},
): void {
  const { source, rows, cols, stride } = boxSampling(fine, size, box, mode);
  const across = (i: number, n: number) => Math.max(1e-3, 1 - Math.abs((2 * i + 1) / n - 1));
  // The column weights once per box, not once per pixel.
  const wx = Float64Array.from({ length: box.width }, (_, x) => across(x, box.width));
  // The weight branch taken once per row, not per pixel.
  const { x0, x1, y0, y1 } = spanOnCanvas(box, width, height);
  for (let y = y0; y < y1; y++) {
    const wy = across(y, box.height);
    const srow = rows[y] * stride;
    const orow = (box.top + y) * width + box.left;
    if (weight) {
      for (let x = x0; x < x1; x++) {
        const w = wy * wx[x];
        sum[orow + x] += w * source[srow + cols[x]];
        weight[orow + x] += w;
      }
    } else {
      for (let x = x0; x < x1; x++) sum[orow + x] += wy * wx[x] * source[srow + cols[x]];
    }
  }
}

/**
 * The box's rows and columns (box coordinates, end exclusive) that fall on a `width` x `height` canvas: found once
 * per box so the pasting loops check no bounds per pixel (boxes grown for context reach past the image's edges).
 */
function spanOnCanvas(box: Box, width: number, height: number): { x0: number; x1: number; y0: number; y1: number } {
  return {
    x0: Math.max(0, -box.left),
    x1: Math.min(box.width, width - box.left),
    y0: Math.max(0, -box.top),
    y1: Math.min(box.height, height - box.top),
  };
}

/** The `size` x `size` map resized to `box`: the values to read and, per box row and column, where to read them. */
function boxSampling(fine: ArrayLike<number>, size: number, box: Box, mode: ResizeMode): { source: ArrayLike<number>; rows: Int32Array; cols: Int32Array; stride: number } {
  assertBox(box, 'box');
  if (fine.length !== size * size) {
    throw new ArgumentError('fine', `has ${fine.length} values; a ${size} x ${size} map has ${size * size}`);
  }
  if (mode === 'nearest') return { source: fine, rows: sharedNearestIndices(size, box.height), cols: sharedNearestIndices(size, box.width), stride: size };
  const data = fine instanceof Float32Array ? fine : Float32Array.from(fine);
  return { source: resizeBilinear({ width: size, height: size, channels: 1, data }, box.width, box.height).data, rows: identity(box.height), cols: identity(box.width), stride: box.width };
}

/**
 * `nearestSourceIndices`, made once per (map size, box side) and shared: the page's overlay draws every box crossing a
 * tile one image row at a time, so the same few hundred index maps were made millions of times (a twentieth of the
 * worker's time on an 8,000 x 8,000 slide). Only read here, never handed out.
 */
const nearestIndexCache = new Map<number, Int32Array>();
const NEAREST_CACHE_ENTRIES = 4096;
function sharedNearestIndices(inSize: number, outSize: number): Int32Array {
  if (inSize > 0xffff || outSize > 0xffff) return nearestSourceIndices(inSize, outSize);
  const key = inSize * 0x10000 + outSize;
  let idx = nearestIndexCache.get(key);
  if (!idx) {
    if (nearestIndexCache.size >= NEAREST_CACHE_ENTRIES) nearestIndexCache.clear();
    idx = nearestSourceIndices(inSize, outSize);
    nearestIndexCache.set(key, idx);
  }
  return idx;
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
