/**
 * The seam count of bench:seams: how many true objects a tiling or cropping cut in pieces.
 *
 * - A true object is *fragmented* when two or more predicted objects each cover at least `minShare` (default 10%)
 *   of its pixels: it reaches the user as two or more objects, whatever the cause.
 * - It is *cut by a border* when, in addition, the line that divides its pieces lies on a tile or crop border: of
 *   the pixel edges inside the true object that separate two of its pieces (4-neighbours with different predicted
 *   labels, both pieces), at least half lie on a border line. A piece boundary that follows the network's own
 *   reading of the object (two cores where one nucleus is) is fragmentation, but not a seam.
 * Borders are given as the pixel edges they run along: `vertical(x, y)`, the edge between pixels (x - 1, y) and
 * (x, y); `horizontal(x, y)`, the edge between (x, y - 1) and (x, y).
 */
import type { LabelMap } from '../src/geometry/label-map.js';
import { overlapTable } from '../src/metrics/instances.js';

export interface Borders {
  readonly vertical: (x: number, y: number) => boolean;
  readonly horizontal: (x: number, y: number) => boolean;
}

export interface SeamCount {
  readonly trueObjects: number;
  readonly fragmented: number;
  readonly cutByBorder: number;
}

export function seamCount(pred: LabelMap, truth: LabelMap, borders: Borders, { minShare = 0.1 } = {}): SeamCount {
  const table = overlapTable(pred, truth);
  // The pieces of each true object: the predicted labels that cover at least minShare of it.
  const pieces = new Map<number, Set<number>>();
  const { pred: pi, truth: ti, intersection } = table.pairs;
  for (let k = 0; k < intersection.length; k++) {
    if (intersection[k] < minShare * table.truth.areas[ti[k]]) continue;
    const t = table.truth.labels[ti[k]];
    const set = pieces.get(t) ?? new Set<number>();
    set.add(table.pred.labels[pi[k]]);
    pieces.set(t, set);
  }
  for (const [t, set] of pieces) if (set.size < 2) pieces.delete(t);
  // The dividing edges of each fragmented object, and how many of them lie on a border.
  const dividing = new Map<number, { all: number; onBorder: number }>();
  for (const t of pieces.keys()) dividing.set(t, { all: 0, onBorder: 0 });
  const { width, height } = truth;
  const p = pred.data;
  const tr = truth.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const t = tr[i];
      if (t === 0) continue;
      const set = pieces.get(t);
      if (!set || !set.has(p[i])) continue;
      const count = dividing.get(t)!;
      const edge = (j: number, onBorder: boolean) => {
        if (tr[j] !== t || p[j] === p[i] || !set.has(p[j])) return;
        count.all++;
        if (onBorder) count.onBorder++;
      };
      if (x + 1 < width) edge(i + 1, borders.vertical(x + 1, y));
      if (y + 1 < height) edge(i + width, borders.horizontal(x, y + 1));
    }
  }
  let cut = 0;
  for (const { all, onBorder } of dividing.values()) if (all > 0 && 2 * onBorder >= all) cut++;
  return { trueObjects: table.truth.labels.length, fragmented: pieces.size, cutByBorder: cut };
}

/** The borders of a regular grid of `tile` x `tile` tiles from (0, 0). */
export function gridBorders(tile: number): Borders {
  return { vertical: (x) => x % tile === 0, horizontal: (_, y) => y % tile === 0 };
}

/** The borders of a set of boxes (crops): each box's four sides, over its own extent. */
export function boxBorders(boxes: readonly { left: number; top: number; width: number; height: number }[], width: number, height: number): Borders {
  // Two bits a pixel: 1, a vertical border along its left edge; 2, a horizontal one along its top edge.
  const bits = new Uint8Array(width * height);
  const clip = (v: number, n: number) => Math.max(0, Math.min(n, v));
  for (const b of boxes) {
    const y0 = clip(b.top, height);
    const y1 = clip(b.top + b.height, height);
    const x0 = clip(b.left, width);
    const x1 = clip(b.left + b.width, width);
    for (const x of [b.left, b.left + b.width]) if (x > 0 && x < width) for (let y = y0; y < y1; y++) bits[y * width + x] |= 1;
    for (const y of [b.top, b.top + b.height]) if (y > 0 && y < height) for (let x = x0; x < x1; x++) bits[y * width + x] |= 2;
  }
  return { vertical: (x, y) => (bits[y * width + x] & 1) !== 0, horizontal: (x, y) => (bits[y * width + x] & 2) !== 0 };
}
