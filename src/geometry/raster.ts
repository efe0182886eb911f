/**
 * The pixel containers shared by geometry, metrics and the pipeline: plain typed arrays, row-major,
 * channels interleaved (H x W x C), which is how sharp hands out raw pixels and how NHWC tensors lie.
 */
import { ArgumentError } from '../errors.js';

export type PixelArray = Float32Array | Float64Array | Uint8Array | Uint8ClampedArray | Uint16Array;

export interface Raster<T extends PixelArray = PixelArray> {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: T;
}

/** A single-channel raster: a binary mask (0/1 or 0/255) or a probability map. */
export type Mask<T extends PixelArray = PixelArray> = Raster<T> & { readonly channels: 1 };

/** Axis-aligned box in pixels: `left`, `top` of the first pixel; `width`, `height` in pixels. */
export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

export function raster<T extends PixelArray>(width: number, height: number, channels: number, data: T): Raster<T> {
  const r = { width, height, channels, data };
  assertRaster(r, 'raster');
  return r;
}

export function mask<T extends PixelArray>(width: number, height: number, data: T): Mask<T> {
  return raster(width, height, 1, data) as Mask<T>;
}

export function assertPositiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ArgumentError(name, `must be a positive integer, got ${String(value)}`);
  }
}

/**
 * Checks shape and, with `finite`, that no value is NaN or infinite (a NaN probability would silently become
 * background under every threshold). Integer arrays cannot hold non-finite values, so only floats are scanned.
 */
export function assertRaster(r: Raster, name: string, { finite = false }: { finite?: boolean } = {}): void {
  if (r === null || typeof r !== 'object' || !ArrayBuffer.isView(r.data)) {
    throw new ArgumentError(name, 'must be a raster { width, height, channels, data: typed array }');
  }
  assertPositiveInteger(r.width, `${name}.width`);
  assertPositiveInteger(r.height, `${name}.height`);
  assertPositiveInteger(r.channels, `${name}.channels`);
  const expected = r.width * r.height * r.channels;
  if (r.data.length !== expected) {
    throw new ArgumentError(
      `${name}.data`,
      `has ${r.data.length} values but ${r.width} x ${r.height} x ${r.channels} needs ${expected}`,
    );
  }
  if (finite && (r.data instanceof Float32Array || r.data instanceof Float64Array)) {
    const bad = firstNonFinite(r.data);
    if (bad >= 0) {
      throw new ArgumentError(`${name}.data`, `value at index ${bad} is ${r.data[bad]}; every value must be finite`);
    }
  }
}

export function assertMask(m: Raster, name: string, options?: { finite?: boolean }): asserts m is Mask {
  assertRaster(m, name, options);
  if (m.channels !== 1) throw new ArgumentError(`${name}.channels`, `a mask has 1 channel, got ${m.channels}`);
}

export function assertSameSize(a: Size, b: Size, nameA: string, nameB: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new ArgumentError(
      nameB,
      `is ${b.width} x ${b.height} but ${nameA} is ${a.width} x ${a.height}; they must be the same size`,
    );
  }
}

function firstNonFinite(data: Float32Array | Float64Array): number {
  for (let i = 0; i < data.length; i++) {
    // x - x is NaN exactly for NaN and +-Infinity, and is cheaper than Number.isFinite in a hot loop.
    if (data[i] - data[i] !== 0) return i;
  }
  return -1;
}

/** Binarises a mask: 1 where `value >= threshold` (the pipeline's rule) or `> threshold` with `strict`. */
export function binarize(m: Mask, threshold = 0.5, strict = false): Mask<Uint8Array> {
  const out = new Uint8Array(m.data.length);
  const d = m.data;
  if (strict) for (let i = 0; i < d.length; i++) out[i] = d[i] > threshold ? 1 : 0;
  else for (let i = 0; i < d.length; i++) out[i] = d[i] >= threshold ? 1 : 0;
  return { width: m.width, height: m.height, channels: 1, data: out };
}
