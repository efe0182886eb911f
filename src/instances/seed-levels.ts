/**
 * Seeds from a core probability at several levels: a component tree. Each group of pixels at or above the base
 * threshold is a seed, unless at a higher level it falls into two or more pieces of at least `minPiece` pixels: then
 * those pieces are its seeds, each refined the same way at the levels above. For a network that learned each pixel's
 * depth in its object (core-target.ts, `depth`), two touching nuclei whose depths a shallow saddle joins at 0.5 part
 * at a deeper level, while a lone nucleus stays one seed at every level. It reads a probability, not a shape, so it
 * does not need the saddle to be thin, as cutting necks by erosion does (seed-necks.ts).
 */
import { connectedComponents, labelImage } from '../geometry/components.js';
import { ArgumentError } from '../errors.js';

export interface SeedLevelOptions {
  /** The levels above the base threshold at which a seed may part, ascending, each in (0, 1]. Empty: no parting. */
  readonly levels: readonly number[];
  /** The smallest piece that counts as a seed of its own, in pixels. */
  readonly minPiece: number;
}

/**
 * The seeds (0/1, `width` x `height`) of the probability `p` (0..1) at `threshold` and the `levels` above it. Seeds
 * that part are kept apart by at least one pixel below their level, so the seeds' 8-connected groups are the seeds.
 */
export function seedsByLevels(p: ArrayLike<number>, width: number, height: number, threshold: number, o: SeedLevelOptions): Uint8Array {
  const n = width * height;
  if (p.length !== n) throw new ArgumentError('core probability', `has ${p.length} values, expected ${width} x ${height}`);
  for (let k = 0; k < o.levels.length; k++) {
    const level = o.levels[k];
    if (!(level > threshold && level <= 1) || (k > 0 && !(level > o.levels[k - 1]))) {
      throw new ArgumentError('core levels', `must rise above the threshold ${threshold} up to 1, got ${o.levels.join(', ')}`);
    }
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = p[i] >= threshold ? 1 : 0;
  if (o.levels.length === 0) return out;
  const base = connectedComponents({ width, height, channels: 1, data: out });
  const labels = labelImage(base);
  for (let g = 1; g <= base.count; g++) {
    if (base.areas[g - 1] < 2 * o.minPiece) continue;
    const box = base.boxes[g - 1];
    const region = new Uint8Array(box.width * box.height);
    for (let y = 0; y < box.height; y++) for (let x = 0; x < box.width; x++) region[y * box.width + x] = labels[(box.top + y) * width + box.left + x] === g ? 1 : 0;
    const kept = refine(region, box.width, box.height, (x, y) => p[(box.top + y) * width + box.left + x], o, 0);
    if (kept === region) continue;
    for (let y = 0; y < box.height; y++) {
      for (let x = 0; x < box.width; x++) if (region[y * box.width + x]) out[(box.top + y) * width + box.left + x] = kept[y * box.width + x];
    }
  }
  return out;
}

/**
 * `region` (0/1, w x h) as itself, or, where it parts at one of `o.levels` from index `from` on, its big pieces
 * there, each refined at the levels above.
 */
function refine(region: Uint8Array, w: number, h: number, at: (x: number, y: number) => number, o: SeedLevelOptions, from: number): Uint8Array {
  for (let k = from; k < o.levels.length; k++) {
    const above = new Uint8Array(w * h);
    let any = false;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (region[y * w + x] && at(x, y) >= o.levels[k]) (above[y * w + x] = 1), (any = true);
    if (!any) break;
    const pieces = connectedComponents({ width: w, height: h, channels: 1, data: above });
    let big = 0;
    for (const a of pieces.areas) if (a >= o.minPiece) big++;
    if (big < 2) continue;
    const pieceLabels = labelImage(pieces);
    const out = new Uint8Array(w * h);
    for (let q = 1; q <= pieces.count; q++) {
      if (pieces.areas[q - 1] < o.minPiece) continue;
      const piece = Uint8Array.from(pieceLabels, (l) => (l === q ? 1 : 0));
      const refined = refine(piece, w, h, at, o, k + 1);
      for (let i = 0; i < out.length; i++) if (refined[i]) out[i] = 1;
    }
    return out;
  }
  return region;
}
