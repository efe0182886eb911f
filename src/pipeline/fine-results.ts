/**
 * The fine network's answers for a large image, kept small (one byte per S x S map pixel per box) instead of as a
 * full-resolution mask; the mask, its objects and any picture of it are rendered from them a part at a time.
 */
import { fuseInto } from '../geometry/fusion.js';
import type { Box, Mask } from '../geometry/raster.js';
import { nearestSourceIndices, type ResizeMode } from '../geometry/resize.js';
import type { DetectedObject } from '../objects/object-table.js';
import { objectsOfMask } from '../objects/objects-of-mask.js';

export interface FineResult {
  readonly box: Box;
  /** The S x S foreground probability, quantised to 0..255. */
  readonly map: Uint8Array;
}

export interface FineResults {
  readonly size: number;
  readonly mode: ResizeMode;
  /** Sorted by top. */
  readonly results: readonly FineResult[];
  /**
   * A mask that bounds the fine masks (the streaming pipeline's `withinRough`): fine foreground counts only where
   * this mask, upsampled by nearest neighbour to `width` x `height` (the space the boxes are in), is foreground.
   */
  readonly bound?: RenderBound;
}

export interface RenderBound {
  readonly mask: Mask<Uint8Array>;
  readonly width: number;
  readonly height: number;
}

/** The reference's threshold, >= 0.5, on the quantised maps. */
const THRESHOLD = 127.5;

/** ORs every fine mask that meets `region` into a 0/1 canvas the size of `region`. */
export function renderRegion(fine: FineResults, region: Box, only?: readonly number[]): Mask<Uint8Array> {
  const canvas: Mask<Uint8Array> = { width: region.width, height: region.height, channels: 1, data: new Uint8Array(region.width * region.height) };
  const indices = only ?? fine.results.map((_, i) => i);
  for (const i of indices) {
    const { box, map } = fine.results[i];
    if (box.top >= region.top + region.height || box.top + box.height <= region.top) continue;
    if (box.left >= region.left + region.width || box.left + box.width <= region.left) continue;
    const shifted = { left: box.left - region.left, top: box.top - region.top, width: box.width, height: box.height };
    fuseInto(canvas, map, fine.size, shifted, { mode: fine.mode, threshold: THRESHOLD });
  }
  if (fine.bound) clipToBound(canvas, region, fine.bound);
  return canvas;
}

/** Each bound's mask row and column for every row and column of its space, made once: objects render it per group. */
const boundIndices = new WeakMap<RenderBound, { rows: Int32Array; cols: Int32Array }>();

/** Clears the canvas pixels (a `region` of the bound's space) where the upsampled bound mask is background. */
function clipToBound(canvas: Mask<Uint8Array>, region: Box, bound: RenderBound): void {
  const { mask } = bound;
  let indices = boundIndices.get(bound);
  if (!indices) {
    indices = { rows: nearestSourceIndices(mask.height, bound.height), cols: nearestSourceIndices(mask.width, bound.width) };
    boundIndices.set(bound, indices);
  }
  const { rows, cols } = indices;
  for (let y = 0; y < region.height; y++) {
    const by = region.top + y;
    const out = y * region.width;
    if (by < 0 || by >= bound.height) {
      canvas.data.fill(0, out, out + region.width);
      continue;
    }
    const src = rows[by] * mask.width;
    for (let x = 0; x < region.width; x++) {
      const bx = region.left + x;
      if (canvas.data[out + x] !== 0 && (bx < 0 || bx >= bound.width || mask.data[src + cols[bx]] === 0)) canvas.data[out + x] = 0;
    }
  }
}

/** Boxes that overlap or touch (their foreground could join) in groups; each group's boxes and bounding rectangle. */
export function groupBoxes(boxes: readonly Box[]): { members: number[]; rect: Box }[] {
  const n = boxes.length;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const order = [...boxes.keys()].sort((a, b) => boxes[a].left - boxes[b].left);
  const active: number[] = [];
  for (const i of order) {
    const b = boxes[i];
    // Boxes one pixel apart still count: their pixels can touch diagonally.
    for (let k = active.length - 1; k >= 0; k--) {
      const a = boxes[active[k]];
      if (a.left + a.width < b.left) {
        active.splice(k, 1);
        continue;
      }
      if (a.top <= b.top + b.height && b.top <= a.top + a.height) parent[find(i)] = find(active[k]);
    }
    active.push(i);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(i);
    else groups.set(r, [i]);
  }
  return [...groups.values()]
    .map((members) => {
      let l = Infinity, t = Infinity, r = -Infinity, btm = -Infinity;
      for (const i of members) {
        const b = boxes[i];
        l = Math.min(l, b.left);
        t = Math.min(t, b.top);
        r = Math.max(r, b.left + b.width);
        btm = Math.max(btm, b.top + b.height);
      }
      return { members, rect: { left: l, top: t, width: r - l, height: btm - t } };
    })
    .sort((a, b) => a.rect.top - b.rect.top || a.rect.left - b.rect.left);
}

/**
 * The objects (8-connected components) of the fused mask, found group by group of touching boxes, so no
 * full-resolution mask is needed and every object is found once, whole, whatever boxes and tiles it spans.
 * Objects are numbered from 1 in the order of their group's top edge. `imageWidth` and `imageHeight` clip groups.
 */
export function* detectObjects(fine: FineResults, imageWidth: number, imageHeight: number): Generator<DetectedObject> {
  let id = 0;
  for (const group of groupBoxes(fine.results.map((r) => r.box))) {
    const l = Math.max(0, group.rect.left);
    const t = Math.max(0, group.rect.top);
    const rect = { left: l, top: t, width: Math.min(imageWidth, group.rect.left + group.rect.width) - l, height: Math.min(imageHeight, group.rect.top + group.rect.height) - t };
    if (rect.width <= 0 || rect.height <= 0) continue;
    for (const object of objectsOfMask(renderRegion(fine, rect, group.members), { left: rect.left, top: rect.top, firstId: id + 1 })) {
      id = object.id;
      yield object;
    }
  }
}
