/**
 * Image resizing on typed arrays, matching PyTorch's `F.interpolate`, which the reference implementation uses for
 * every resize (image downscale, crop resize, mask upsampling), so that our masks equal its masks pixel for pixel.
 */
import { ArgumentError } from '../errors.js';
import { type PixelArray, type Raster, assertPositiveInteger, assertRaster } from './raster.js';

export type ResizeMode = 'nearest' | 'bilinear';

const f32 = Math.fround;

/**
 * Source index of each output index for PyTorch's default `nearest` mode: `min(floor(dst * (in / out)), in - 1)`,
 * evaluated in float32 as ATen does. The float32 scale matters: for about 2% of size pairs under 300 the exact
 * rational floor picks a different source pixel. (JS doubles then `fround` give the float32 result exactly here:
 * products and quotients of float32 values round correctly through a double.)
 */
export function nearestSourceIndices(inSize: number, outSize: number): Int32Array {
  assertPositiveInteger(inSize, 'inSize');
  assertPositiveInteger(outSize, 'outSize');
  const idx = new Int32Array(outSize);
  if (outSize === inSize) {
    for (let i = 0; i < outSize; i++) idx[i] = i;
  } else if (outSize === 2 * inSize) {
    for (let i = 0; i < outSize; i++) idx[i] = i >> 1;
  } else {
    const scale = f32(inSize / outSize);
    for (let i = 0; i < outSize; i++) idx[i] = Math.min(Math.floor(f32(i * scale)), inSize - 1);
  }
  return idx;
}

/**
 * First output index that reads each input index under `nearestSourceIndices(inSize, outSize)` when upsampling
 * (`outSize >= inSize`), plus a final entry `outSize`: input i covers outputs [start[i], start[i + 1]).
 */
export function nearestCoverageStarts(inSize: number, outSize: number): Int32Array {
  if (outSize < inSize) {
    throw new ArgumentError('outSize', `coverage is defined for upsampling only (${inSize} -> ${outSize})`);
  }
  const src = nearestSourceIndices(inSize, outSize);
  const start = new Int32Array(inSize + 1).fill(-1);
  for (let o = outSize - 1; o >= 0; o--) start[src[o]] = o;
  start[inSize] = outSize;
  return start;
}

/** Nearest-neighbour resize, bit-exact with PyTorch's `F.interpolate(x, size)`. Keeps the input's array type. */
export function resizeNearest<T extends PixelArray>(src: Raster<T>, width: number, height: number): Raster<T> {
  assertRaster(src, 'src');
  assertPositiveInteger(width, 'width');
  assertPositiveInteger(height, 'height');
  const { channels: c } = src;
  const rows = nearestSourceIndices(src.height, height);
  const cols = nearestSourceIndices(src.width, width);
  const out = new (src.data.constructor as new (n: number) => T)(width * height * c);
  const s = src.data;
  if (c === 1) {
    for (let y = 0; y < height; y++) {
      const srow = rows[y] * src.width;
      const orow = y * width;
      for (let x = 0; x < width; x++) out[orow + x] = s[srow + cols[x]];
    }
  } else {
    for (let y = 0; y < height; y++) {
      const srow = rows[y] * src.width;
      let o = y * width * c;
      for (let x = 0; x < width; x++) {
        const si = (srow + cols[x]) * c;
        for (let k = 0; k < c; k++) out[o++] = s[si + k];
      }
    }
  }
  return { width, height, channels: c, data: out };
}

interface LinearTaps {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly w1: Float32Array;
}

/** PyTorch's `align_corners=False` source taps: src = (dst + 0.5) * in / out - 0.5, clamped at 0, in float32. */
function linearTaps(inSize: number, outSize: number): LinearTaps {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = f32(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    const real = Math.max(f32(f32(scale * f32(o + 0.5)) - 0.5), 0);
    const lo = Math.floor(real);
    i0[o] = lo;
    i1[o] = lo < inSize - 1 ? lo + 1 : lo;
    w1[o] = Math.min(Math.max(f32(real - lo), 0), 1);
  }
  return { i0, i1, w1 };
}

/**
 * Bilinear resize with half-pixel centres, as PyTorch's `F.interpolate(x, size, mode='bilinear',
 * align_corners=False)` without antialiasing. Returns float32 whatever the input type.
 */
export function resizeBilinear(src: Raster, width: number, height: number): Raster<Float32Array> {
  assertRaster(src, 'src');
  assertPositiveInteger(width, 'width');
  assertPositiveInteger(height, 'height');
  const c = src.channels;
  const ty = linearTaps(src.height, height);
  const tx = linearTaps(src.width, width);
  const s = src.data;
  const out = new Float32Array(width * height * c);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const r0 = ty.i0[y] * src.width;
    const r1 = ty.i1[y] * src.width;
    const wy = ty.w1[y];
    for (let x = 0; x < width; x++) {
      const c0 = tx.i0[x];
      const c1 = tx.i1[x];
      const wx = tx.w1[x];
      for (let k = 0; k < c; k++) {
        const top = (1 - wx) * s[(r0 + c0) * c + k] + wx * s[(r0 + c1) * c + k];
        const bottom = (1 - wx) * s[(r1 + c0) * c + k] + wx * s[(r1 + c1) * c + k];
        out[o++] = (1 - wy) * top + wy * bottom;
      }
    }
  }
  return { width, height, channels: c, data: out };
}

export function resize<T extends PixelArray>(
  src: Raster<T>,
  width: number,
  height: number,
  mode: ResizeMode = 'nearest',
): Raster<T> | Raster<Float32Array> {
  if (mode === 'nearest') return resizeNearest(src, width, height);
  if (mode === 'bilinear') return resizeBilinear(src, width, height);
  throw new ArgumentError('mode', `unknown resize mode '${String(mode)}'; use 'nearest' or 'bilinear'`);
}
