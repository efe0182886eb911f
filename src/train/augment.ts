/**
 * Training augmentation on typed arrays, the reference's albumentations pipeline: ShiftScaleRotate (shift +-6.25% of
 * the side, scale +-10%, rotation +-15 degrees, drawn together, applied with probability 0.5) then a horizontal
 * flip with probability 0.3. Both are folded into one inverse mapping, so each output pixel is sampled once; the
 * image bilinearly, the mask by nearest neighbour, from the same coordinates, so they stay aligned.
 *
 * Borders: `reflect101` (gfedcb|abcdefgh|gfedcba) is albumentations' default and what the reference trained with;
 * `constant` fills with 0 (background in the mask). Rotation follows OpenCV's getRotationMatrix2D: positive angles
 * turn the picture counter-clockwise about the pixel grid's centre ((w - 1) / 2, (h - 1) / 2).
 */
import { ArgumentError } from '../errors.js';
import type { Box, Mask, PixelArray, Raster } from '../geometry/raster.js';
import { type Rng, uniform } from '../random.js';

export type BorderMode = 'reflect101' | 'constant';

export interface AugmentOptions {
  /** Largest shift as a fraction of width / height. Default 0.0625. */
  readonly shift?: number;
  /** Scale factor drawn from [1 - scale, 1 + scale]. Default 0.1. */
  readonly scale?: number;
  /** Largest rotation in degrees. Default 15. */
  readonly rotate?: number;
  /** Probability of the shift-scale-rotate. Default 0.5. */
  readonly affineProbability?: number;
  /** Probability of the horizontal flip. Default 0.3. */
  readonly flipProbability?: number;
  /** Default `reflect101`, as the reference. */
  readonly border?: BorderMode;
  /** Image interpolation; the mask is always nearest. Default `bilinear`. */
  readonly imageInterpolation?: 'bilinear' | 'nearest';
}

/** One draw of the augmentation: `affine` null when shift-scale-rotate was not applied. */
export interface AugmentParams {
  readonly affine: { readonly angle: number; readonly scale: number; readonly dx: number; readonly dy: number } | null;
  readonly flip: boolean;
}

/** Draws the parameters: probability, angle, scale, dx, dy for the affine, then the flip's coin. */
export function drawAugmentation(rng: Rng, options: AugmentOptions = {}): AugmentParams {
  const { shift = 0.0625, scale = 0.1, rotate = 15, affineProbability = 0.5, flipProbability = 0.3 } = options;
  let affine: AugmentParams['affine'] = null;
  if (uniform(rng, 0, 1) < affineProbability) {
    const angle = uniform(rng, -rotate, rotate);
    const s = uniform(rng, 1 - scale, 1 + scale);
    const dx = uniform(rng, -shift, shift);
    const dy = uniform(rng, -shift, shift);
    affine = { angle, scale: s, dx, dy };
  }
  return { affine, flip: uniform(rng, 0, 1) < flipProbability };
}

/** Draws and applies an augmentation to an image and its mask. */
export function augment<I extends PixelArray>(
  image: Raster<I>,
  mask: Mask<Uint8Array>,
  rng: Rng,
  options: AugmentOptions = {},
): { image: Raster<I>; mask: Mask<Uint8Array>; params: AugmentParams } {
  const params = drawAugmentation(rng, options);
  return { ...applyAugmentation(image, mask, params, options), params };
}

/**
 * The source position of output pixel (x, y) is `(m[0] x + m[1] y + m[2], m[3] x + m[4] y + m[5])`: the inverse of
 * the forward affine, composed with the flip (x -> w - 1 - x) applied after it.
 */
export function inverseMapping(params: AugmentParams, width: number, height: number): Float64Array {
  let m = [1, 0, 0, 0, 1, 0];
  if (params.affine) {
    const { angle, scale, dx, dy } = params.affine;
    const cx = (width - 1) / 2;
    const cy = (height - 1) / 2;
    const rad = (angle * Math.PI) / 180;
    const a = scale * Math.cos(rad);
    const b = scale * Math.sin(rad);
    // Forward: [a b; -b a] (p - c) + c + shift. Inverse of [a b; -b a] is [a -b; b a] / (a^2 + b^2).
    const tx = (1 - a) * cx - b * cy + dx * width;
    const ty = b * cx + (1 - a) * cy + dy * height;
    const det = a * a + b * b;
    const ia = a / det;
    const ib = b / det;
    m = [ia, -ib, -(ia * tx - ib * ty), ib, ia, -(ib * tx + ia * ty)];
  }
  if (params.flip) {
    // Output x reads the unflipped output at w - 1 - x: substitute x' = (w - 1) - x.
    m = [-m[0], m[1], m[0] * (width - 1) + m[2], -m[3], m[4], m[3] * (width - 1) + m[5]];
  }
  return Float64Array.from(m);
}

/** Boxes smaller than this (px^2) after the augmentation are left out, as albumentations' `min_area=10` in the reference. */
export const MIN_AUGMENTED_BOX_AREA = 10;

/**
 * Where `box` of the un-augmented image lands after the augmentation, the way albumentations carries boxes through
 * ShiftScaleRotate and HorizontalFlip in the reference: the box of its four transformed corners (so a rotation
 * grows it), clipped to the image; null when less than `MIN_AUGMENTED_BOX_AREA` is left.
 */
export function augmentBox(box: Box, params: AugmentParams, width: number, height: number): Box | null {
  const [a, b, c, d, e, f] = inverseMapping(params, width, height);
  // Forward map = inverse of the inverse map: p = M^-1 (q - t).
  const det = a * e - b * d;
  const forward = (x: number, y: number): [number, number] => {
    const u = x - c;
    const v = y - f;
    return [(e * u - b * v) / det, (-d * u + a * v) / det];
  };
  // Edges in pixel-centre coordinates: the box covers centres left .. left + width - 1.
  const x0 = box.left - 0.5;
  const x1 = box.left + box.width - 0.5;
  const y0 = box.top - 0.5;
  const y1 = box.top + box.height - 0.5;
  const corners = [forward(x0, y0), forward(x1, y0), forward(x0, y1), forward(x1, y1)];
  const xs = corners.map((p) => p[0]);
  const ys = corners.map((p) => p[1]);
  const left = Math.max(0, Math.round(Math.min(...xs) + 0.5));
  const right = Math.min(width, Math.round(Math.max(...xs) + 0.5));
  const top = Math.max(0, Math.round(Math.min(...ys) + 0.5));
  const bottom = Math.min(height, Math.round(Math.max(...ys) + 0.5));
  const w = right - left;
  const h = bottom - top;
  if (w <= 0 || h <= 0 || w * h < MIN_AUGMENTED_BOX_AREA) return null;
  return { left, top, width: w, height: h };
}

export function applyAugmentation<I extends PixelArray>(
  image: Raster<I>,
  mask: Mask<Uint8Array>,
  params: AugmentParams,
  options: AugmentOptions = {},
): { image: Raster<I>; mask: Mask<Uint8Array> } {
  if (image.width !== mask.width || image.height !== mask.height) {
    throw new ArgumentError('mask', `is ${mask.width} x ${mask.height} but the image is ${image.width} x ${image.height}`);
  }
  checkBorder(options.border);
  if (!params.affine && !params.flip) return { image, mask };
  const cols = everyIndex(image.width);
  const rows = everyIndex(image.height);
  return { image: augmentImageAt(image, params, cols, rows, options), mask: augmentMaskAt(mask, params, cols, rows, options) };
}

/**
 * Pixels (cols[i], rows[j]) of the augmented image, as output pixel (i, j); an index of -1 leaves that output 0.
 * Each augmented pixel depends on its own coordinates only, so this equals augmenting the whole image and then
 * picking those pixels, bit for bit, at the cost of the picked pixels alone: a nearest resize or crop to S x S
 * right after the augmentation then touches S^2 pixels, not the whole image.
 */
export function augmentImageAt<I extends PixelArray>(
  image: Raster<I>,
  params: AugmentParams,
  cols: Int32Array,
  rows: Int32Array,
  { border = 'reflect101', imageInterpolation = 'bilinear' }: AugmentOptions = {},
): Raster<I> {
  checkBorder(border);
  const m = inverseMapping(params, image.width, image.height);
  return !params.affine || imageInterpolation === 'nearest'
    ? warpNearest(image, m, border, cols, rows)
    : warpBilinear(image, m, border, cols, rows);
}

/** `augmentImageAt` for the mask: always nearest, so labels stay 0/1. */
export function augmentMaskAt(
  mask: Mask<Uint8Array>,
  params: AugmentParams,
  cols: Int32Array,
  rows: Int32Array,
  { border = 'reflect101' }: AugmentOptions = {},
): Mask<Uint8Array> {
  checkBorder(border);
  return warpNearest(mask, inverseMapping(params, mask.width, mask.height), border, cols, rows) as Mask<Uint8Array>;
}

/** 0, 1, ..., n - 1: the grid of a whole image. */
export function everyIndex(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function checkBorder(border: unknown): void {
  if (border !== undefined && border !== 'reflect101' && border !== 'constant') {
    throw new ArgumentError('border', `unknown border mode '${String(border)}'; use 'reflect101' or 'constant'`);
  }
}

/** Index `i` folded into 0..n-1 as OpenCV's BORDER_REFLECT_101, or -1 outside for `constant`. */
function borderIndex(i: number, n: number, border: BorderMode): number {
  if (i >= 0 && i < n) return i;
  if (border === 'constant') return -1;
  if (n === 1) return 0;
  const period = 2 * n - 2;
  let j = Math.abs(i) % period;
  if (j >= n) j = period - j;
  return j;
}

function warpNearest<T extends PixelArray>(src: Raster<T>, m: Float64Array, border: BorderMode, cols: Int32Array, rows: Int32Array): Raster<T> {
  const { width: w, height: h, channels: c } = src;
  const out = new (src.data.constructor as new (n: number) => T)(cols.length * rows.length * c);
  const s = src.data;
  for (let j = 0, o = 0; j < rows.length; j++) {
    const y = rows[j];
    for (let i = 0; i < cols.length; i++, o += c) {
      const x = cols[i];
      if (x < 0 || y < 0) continue;
      const sx = borderIndex(Math.floor(m[0] * x + m[1] * y + m[2] + 0.5), w, border);
      const sy = borderIndex(Math.floor(m[3] * x + m[4] * y + m[5] + 0.5), h, border);
      if (sx < 0 || sy < 0) continue;
      const si = (sy * w + sx) * c;
      for (let k = 0; k < c; k++) out[o + k] = s[si + k];
    }
  }
  return { width: cols.length, height: rows.length, channels: c, data: out };
}

function warpBilinear<T extends PixelArray>(src: Raster<T>, m: Float64Array, border: BorderMode, cols: Int32Array, rows: Int32Array): Raster<T> {
  const { width: w, height: h, channels: c } = src;
  const out = new (src.data.constructor as new (n: number) => T)(cols.length * rows.length * c);
  const isFloat = out instanceof Float32Array || out instanceof Float64Array;
  const max = out instanceof Uint16Array ? 65535 : 255;
  const s = src.data;
  for (let j = 0, o = 0; j < rows.length; j++) {
    const y = rows[j];
    for (let i = 0; i < cols.length; i++, o += c) {
      const x = cols[i];
      if (x < 0 || y < 0) continue;
      const fx = m[0] * x + m[1] * y + m[2];
      const fy = m[3] * x + m[4] * y + m[5];
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const ax = fx - x0;
      const ay = fy - y0;
      const c0 = borderIndex(x0, w, border);
      const c1 = borderIndex(x0 + 1, w, border);
      const r0 = borderIndex(y0, h, border);
      const r1 = borderIndex(y0 + 1, h, border);
      if ((c0 < 0 && c1 < 0) || (r0 < 0 && r1 < 0)) continue;
      const w00 = (1 - ax) * (1 - ay);
      const w01 = ax * (1 - ay);
      const w10 = (1 - ax) * ay;
      const w11 = ax * ay;
      for (let k = 0; k < c; k++) {
        let v = 0;
        if (r0 >= 0) {
          if (c0 >= 0) v += w00 * s[(r0 * w + c0) * c + k];
          if (c1 >= 0) v += w01 * s[(r0 * w + c1) * c + k];
        }
        if (r1 >= 0) {
          if (c0 >= 0) v += w10 * s[(r1 * w + c0) * c + k];
          if (c1 >= 0) v += w11 * s[(r1 * w + c1) * c + k];
        }
        // Integer images round and saturate, as OpenCV's warpAffine does for uint8.
        out[o + k] = isFloat ? v : Math.min(max, Math.max(0, Math.round(v)));
      }
    }
  }
  return { width: cols.length, height: rows.length, channels: c, data: out };
}
