/**
 * Per-pixel loss weights that make the narrow gaps between neighbouring cores count, as the U-Net paper weighted
 * the background between touching cells (Ronneberger et al. 2015, eq. 2): a pixel outside every core gets
 * `1 + w0 * exp(-(d1 + d2)^2 / (2 sigma^2))`, where d1 and d2 are its distances to the nearest and the second
 * nearest core. Soft Dice alone barely notices a two-pixel bridge between two cores, and a bridge is exactly what
 * merges two nuclei after the split (split-by-cores.ts), so the cores' loss adds a cross-entropy weighted so.
 *
 * Cores are the 8-connected groups of the core mask, as split-by-cores.ts reads them; distances are city-block,
 * grown from each core up to the radius where the weight falls below 1% of w0 (beyond it the weight is 1).
 */
import { ArgumentError } from '../errors.js';
import { connectedComponents, labelImage } from '../geometry/components.js';

export interface GapWeightOptions {
  /** The weight added at a pixel between two cores that touch it. */
  readonly w0: number;
  /** How fast the added weight falls with the distance to the two cores, in pixels of the map. */
  readonly sigma: number;
}

/**
 * Chosen for S = 64 crops of nuclei, where two touching nuclei's cores are 2 to 6 pixels apart: w0 as the U-Net
 * paper, sigma smaller than its 5 because its cells were larger in pixels.
 */
export const GAP_WEIGHTS: GapWeightOptions = { w0: 10, sigma: 3 };

/** The weights of one `width` x `height` core mask (nonzero = core). */
export function gapWeights(core: ArrayLike<number>, width: number, height: number, options: GapWeightOptions = GAP_WEIGHTS): Float32Array {
  const { w0, sigma } = options;
  if (!(w0 >= 0 && sigma > 0 && Number.isFinite(w0) && Number.isFinite(sigma))) {
    throw new ArgumentError('gap weights', `need w0 >= 0 and sigma > 0, got w0 ${w0}, sigma ${sigma}`);
  }
  const n = width * height;
  if (core.length !== n) throw new ArgumentError('core', `has ${core.length} values, expected ${width} x ${height}`);
  const weights = new Float32Array(n).fill(1);
  const cores = connectedComponents({ width, height, channels: 1, data: Float32Array.from(core, (v) => (v ? 1 : 0)) });
  if (cores.count < 2) return weights;
  const labels = labelImage(cores);
  // (d1 + d2) beyond this adds less than 1% of w0: sqrt(2 ln 100) sigma.
  const reach = Math.ceil(Math.sqrt(2 * Math.log(100)) * sigma);
  const d1 = new Float32Array(n).fill(Infinity);
  const d2 = new Float32Array(n).fill(Infinity);
  const seen = new Int32Array(n);
  const distance = new Int32Array(n);
  const queue = new Int32Array(n);
  for (let label = 1; label <= cores.count; label++) {
    const box = cores.boxes[label - 1];
    let tail = 0;
    for (let y = box.top; y < box.top + box.height; y++) {
      for (let x = box.left; x < box.left + box.width; x++) {
        const i = y * width + x;
        if (labels[i] === label) {
          seen[i] = label;
          distance[i] = 0;
          queue[tail++] = i;
        }
      }
    }
    for (let head = 0; head < tail; head++) {
      const i = queue[head];
      const d = distance[i] + 1;
      if (d > reach) continue;
      const x = i % width;
      const visit = (j: number) => {
        if (seen[j] === label) return;
        seen[j] = label;
        distance[j] = d;
        queue[tail++] = j;
        if (d < d1[j]) (d2[j] = d1[j]), (d1[j] = d);
        else if (d < d2[j]) d2[j] = d;
      };
      if (x > 0) visit(i - 1);
      if (x < width - 1) visit(i + 1);
      if (i >= width) visit(i - width);
      if (i + width < n) visit(i + width);
    }
  }
  const twoSigma2 = 2 * sigma * sigma;
  for (let i = 0; i < n; i++) {
    if (labels[i] !== 0 || d2[i] === Infinity) continue;
    const s = d1[i] + d2[i];
    weights[i] = 1 + w0 * Math.exp(-(s * s) / twoSigma2);
  }
  return weights;
}
