/**
 * 8-connected component labelling with per-component bounding boxes, run-based: each row is cut into runs of
 * foreground pixels, runs touching a run of the row above (diagonals included) are joined with union-find, and
 * per-component statistics are gathered per run. Linear in pixels, no recursion, and memory grows with the number
 * of runs rather than pixels, so a 10^8-pixel mask needs no per-pixel label image.
 */
import { ArgumentError } from '../errors.js';
import { type Box, type Mask, assertMask } from './raster.js';

export interface Components {
  /** Number of components; component k (0-based) has label k + 1, as OpenCV numbers them. */
  readonly count: number;
  readonly boxes: Box[];
  /** Foreground pixels per component. */
  readonly areas: Float64Array;
  /** Horizontal runs of foreground: row, first column, one past the last column, and component label. */
  readonly runs: { readonly row: Int32Array; readonly start: Int32Array; readonly end: Int32Array; readonly label: Int32Array };
  readonly width: number;
  readonly height: number;
}

/**
 * Where the mask's rows and columns land on another pixel grid (`nearestCoverageStarts`): used when the mask is
 * a small map that the reference would have upsampled first, so that components are numbered in the order the
 * reference finds them on the upsampled grid.
 */
export interface OrderGrid {
  readonly rowStart: Int32Array;
  readonly colStart: Int32Array;
}

export interface ComponentOptions {
  /** Foreground is `value >= threshold`. Default 0.5 (0/1, 0/255 and probability masks alike). */
  readonly threshold?: number;
  readonly orderGrid?: OrderGrid;
}

class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * Labels the 8-connected foreground components of `mask`.
 *
 * Components are numbered as OpenCV's `connectedComponents` numbers them (its default 8-connected algorithm scans
 * 2 x 2 blocks in raster order), so the boxes come out in the same order as the reference's `get_bboxes`.
 */
export function connectedComponents(mask: Mask, options: ComponentOptions = {}): Components {
  assertMask(mask, 'mask', { finite: true });
  const threshold = options.threshold ?? 0.5;
  if (!Number.isFinite(threshold)) throw new ArgumentError('threshold', `must be finite, got ${threshold}`);
  const { width: W, height: H } = mask;
  const grid = options.orderGrid;
  if (grid && (grid.rowStart.length < H || grid.colStart.length < W)) {
    throw new ArgumentError('orderGrid', `must map all ${H} rows and ${W} columns of the mask`);
  }
  const d = mask.data;
  const row = new IntList(H * 4);
  const start = new IntList(H * 4);
  const end = new IntList(H * 4);
  const parent = new IntList(H * 4);

  const find = (i: number): number => {
    const p = parent.data;
    while (p[i] !== i) {
      p[i] = p[p[i]]; // path halving
      i = p[i];
    }
    return i;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    // Keep the earlier run as root: roots then stay the first run of their component in raster order.
    if (ra < rb) parent.data[rb] = ra;
    else if (rb < ra) parent.data[ra] = rb;
  };

  let prevFirst = 0;
  let prevEnd = 0; // run indices [prevFirst, prevEnd) belong to the previous row
  for (let y = 0; y < H; y++) {
    const base = y * W;
    const rowFirst = row.length;
    let x = 0;
    while (x < W) {
      while (x < W && !(d[base + x] >= threshold)) x++;
      if (x >= W) break;
      const s = x;
      while (x < W && d[base + x] >= threshold) x++;
      const id = row.length;
      row.push(y);
      start.push(s);
      end.push(x);
      parent.push(id);
    }
    const rowEnd = row.length;
    // Join with the previous row: runs [s, e) and [ps, pe) touch (8-connected) when ps <= e and pe >= s.
    if (y > 0 && rowFirst < rowEnd && prevFirst < prevEnd) {
      let j = prevFirst;
      for (let i = rowFirst; i < rowEnd; i++) {
        const s = start.data[i];
        const e = end.data[i];
        while (j < prevEnd && end.data[j] < s) j++;
        let k = j;
        while (k < prevEnd && start.data[k] <= e) {
          union(i, k);
          k++;
        }
      }
    }
    prevFirst = rowFirst;
    prevEnd = rowEnd;
  }

  const n = row.length;
  // Order components by the first 2 x 2 block (on the order grid) they touch, as OpenCV's block scan does.
  const blockCols = Math.floor(((grid ? grid.colStart[W - 1] : W - 1) + 2) / 2) + 1;
  const rootKey = new Float64Array(n).fill(Infinity);
  const rootOf = new Int32Array(n);
  const roots: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = find(i);
    rootOf[i] = r;
    if (r === i) roots.push(i);
    const by = (grid ? grid.rowStart[row.data[i]] : row.data[i]) >> 1;
    const bx = (grid ? grid.colStart[start.data[i]] : start.data[i]) >> 1;
    const key = by * blockCols + bx;
    if (key < rootKey[r]) rootKey[r] = key;
  }
  roots.sort((a, b) => rootKey[a] - rootKey[b] || a - b);
  const labelOfRoot = new Int32Array(n);
  roots.forEach((r, k) => (labelOfRoot[r] = k + 1));

  const count = roots.length;
  const minX = new Int32Array(count).fill(W);
  const minY = new Int32Array(count).fill(H);
  const maxX = new Int32Array(count).fill(-1);
  const maxY = new Int32Array(count).fill(-1);
  const areas = new Float64Array(count);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = labelOfRoot[rootOf[i]];
    labels[i] = label;
    const k = label - 1;
    const y = row.data[i];
    const s = start.data[i];
    const e = end.data[i];
    if (s < minX[k]) minX[k] = s;
    if (e - 1 > maxX[k]) maxX[k] = e - 1;
    if (y < minY[k]) minY[k] = y;
    if (y > maxY[k]) maxY[k] = y;
    areas[k] += e - s;
  }
  const boxes: Box[] = [];
  for (let k = 0; k < count; k++) {
    boxes.push({ left: minX[k], top: minY[k], width: maxX[k] - minX[k] + 1, height: maxY[k] - minY[k] + 1 });
  }
  return {
    count,
    boxes,
    areas,
    runs: { row: row.view().slice(), start: start.view().slice(), end: end.view().slice(), label: labels },
    width: W,
    height: H,
  };
}

/** The per-pixel label image (0 = background), for callers that need it; costs 4 bytes per pixel. */
export function labelImage(components: Components): Int32Array {
  const { width, height, runs } = components;
  const out = new Int32Array(width * height);
  for (let i = 0; i < runs.row.length; i++) {
    const base = runs.row[i] * width;
    out.fill(runs.label[i], base + runs.start[i], base + runs.end[i]);
  }
  return out;
}

/** Centre of mass of each component, in pixel coordinates (pixel (x, y) has its centre at x + 0.5, y + 0.5). */
export function componentCentroids(components: Components): { readonly x: Float64Array; readonly y: Float64Array } {
  const x = new Float64Array(components.count);
  const y = new Float64Array(components.count);
  const { row, start, end, label } = components.runs;
  for (let i = 0; i < row.length; i++) {
    const k = label[i] - 1;
    const n = end[i] - start[i];
    x[k] += ((start[i] + end[i]) / 2) * n; // the run's pixel centres s + 0.5 .. e - 0.5 sum to n (s + e) / 2
    y[k] += (row[i] + 0.5) * n;
  }
  for (let k = 0; k < components.count; k++) {
    x[k] /= components.areas[k];
    y[k] /= components.areas[k];
  }
  return { x, y };
}
