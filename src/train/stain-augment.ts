/**
 * Stain augmentation for H&E (Tellez et al., "Whole-slide mitosis detection in H&E breast histology using PHH3 as a
 * reference to train distilled stain-invariant convolutional networks", IEEE TMI 2018: "HED" augmentation). Each
 * pixel's colour is split into the amounts of haematoxylin, eosin and a residual by colour deconvolution (Ruifrok &
 * Johnston 2001: Beer-Lambert optical density, OD = -log10(I / 255), is linear in the stains' amounts), each amount
 * is scaled and shifted, and the colour rebuilt. Unlike a per-channel RGB gain, this reaches what differs between
 * sites: slides stained paler or darker (MoNuSeg's TCGA-G9-6363 has a fifth of the usual nuclear contrast), more or
 * less eosin, a haematoxylin of another hue stays out of reach (the stain vectors are fixed).
 *
 * Pure functions on rasters; the sampler draws one `StainDraw` per training sample.
 */
import { ArgumentError } from '../errors.js';
import type { Raster } from '../geometry/raster.js';
import { type Rng, uniform } from '../random.js';

/** Ruifrok & Johnston's optical-density vectors of haematoxylin and eosin (rows, unit length below). */
const HAEMATOXYLIN = [0.65, 0.7, 0.29];
const EOSIN = [0.07, 0.99, 0.11];

function unit(v: readonly number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function cross(a: readonly number[], b: readonly number[]): number[] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/** Rows: the OD of one unit of each stain (H, E, and the residual orthogonal to both). */
const STAINS: readonly number[][] = (() => {
  const h = unit(HAEMATOXYLIN);
  const e = unit(EOSIN);
  return [h, e, unit(cross(h, e))];
})();

function inverse3(m: readonly number[][]): number[][] {
  const [a, b, c] = m;
  const det = a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0]);
  const inv = [
    [b[1] * c[2] - b[2] * c[1], a[2] * c[1] - a[1] * c[2], a[1] * b[2] - a[2] * b[1]],
    [b[2] * c[0] - b[0] * c[2], a[0] * c[2] - a[2] * c[0], a[2] * b[0] - a[0] * b[2]],
    [b[0] * c[1] - b[1] * c[0], a[1] * c[0] - a[0] * c[1], a[0] * b[1] - a[1] * b[0]],
  ];
  return inv.map((row) => row.map((x) => x / det));
}

/** OD (as a row vector) times this gives the stains' amounts. */
const UNMIX = inverse3(STAINS);

/** Shifts of each stain's amount, in OD units: Tellez et al.'s "light" setting. */
const MAX_SHIFT = 0.05;

/** One sample's stain change: each stain's amount a becomes gain * a + shift. */
export interface StainDraw {
  readonly gain: readonly [number, number, number];
  readonly shift: readonly [number, number, number];
}

/**
 * Draws a stain change with probability 0.8 (null: the sample keeps its colours): the whole staining made paler or
 * darker by a factor log-uniform in [1 / factor, factor] (every stain's amount, the residual's too, so a pale slide
 * stays pink rather than turning yellow), haematoxylin and eosin each by a further factor log-uniform in
 * [1 / sqrt(factor), sqrt(factor)], and each amount shifted by up to 0.05 OD.
 */
export function drawStain(rng: Rng, factor: number): StainDraw | null {
  if (!(factor >= 1)) throw new ArgumentError('stain jitter', `must be a factor of at least 1 (1: none), got ${factor}`);
  if (uniform(rng, 0, 1) >= 0.8) return null;
  const span = Math.log(factor);
  const density = Math.exp(uniform(rng, -span, span));
  const own = (): number => density * Math.exp(uniform(rng, -span / 2, span / 2));
  const shift = (): number => uniform(rng, -MAX_SHIFT, MAX_SHIFT);
  return { gain: [own(), own(), density], shift: [shift(), shift(), shift()] };
}

/** The raster (RGB, values 0..255) with its stains changed; other channel counts are refused. */
export function restained(r: Raster, { gain, shift }: StainDraw): Raster<Float32Array> {
  if (r.channels !== 3) throw new ArgumentError('stain jitter', `needs RGB images (H&E), got ${r.channels} channel(s)`);
  // The whole change is linear in OD: od' = od * (UNMIX * diag(gain) * STAINS) + shift * STAINS.
  const m: number[][] = [0, 1, 2].map((i) => [0, 1, 2].map((j) => UNMIX[i][0] * gain[0] * STAINS[0][j] + UNMIX[i][1] * gain[1] * STAINS[1][j] + UNMIX[i][2] * gain[2] * STAINS[2][j]));
  const offset = [0, 1, 2].map((j) => shift[0] * STAINS[0][j] + shift[1] * STAINS[1][j] + shift[2] * STAINS[2][j]);
  const data = new Float32Array(r.data.length);
  const od = [0, 0, 0];
  for (let p = 0; p < data.length; p += 3) {
    // A pixel of 0 would have infinite density: 1 is as dark as an 8-bit image says.
    for (let c = 0; c < 3; c++) od[c] = -Math.log10(Math.max(1, r.data[p + c]) / 255);
    for (let j = 0; j < 3; j++) {
      const d = od[0] * m[0][j] + od[1] * m[1][j] + od[2] * m[2][j] + offset[j];
      data[p + j] = Math.min(255, Math.max(0, 255 * 10 ** -d));
    }
  }
  return { width: r.width, height: r.height, channels: 3, data };
}
