/**
 * The fine network's answers for a large image, kept small (one byte per S x S map pixel per box, or deflated:
 * packed-maps.ts) instead of as a full-resolution mask; the mask, its objects and any picture of it are rendered
 * from them a part at a time.
 */
import { connectedComponents, labelImage } from '../geometry/components.js';
import { fuseInto, voteInto, weighInto } from '../geometry/fusion.js';
import { type SplitOptions, splitByCores } from '../instances/split-by-cores.js';
import { type SeedLevelOptions, seedsByLevels } from '../instances/seed-levels.js';
import { type FlowDecodeOptions, labelsByFlows } from '../instances/follow-flows.js';
import { unitToFlow } from '../instances/flow-target.js';
import type { Box, Mask } from '../geometry/raster.js';
import { nearestCoverageStarts, nearestSourceIndices, type ResizeMode } from '../geometry/resize.js';
import type { DetectedObject } from '../objects/object-table.js';
import { objectsOfLabels } from '../objects/objects-of-mask.js';
import type { LabelMap } from '../geometry/label-map.js';
import { type MapBytes, bytesOf } from './packed-maps.js';

export interface FineResult {
  readonly box: Box;
  /** The S x S foreground probability, quantised to 0..255 (read it with packed-maps.ts's `bytesOf`). */
  readonly map: MapBytes;
  /** An instance network's S x S object-core probability, quantised to 0..255 (src/instances/), read the same way. */
  readonly core?: MapBytes;
  /** A flow network's S x S centre flows (dy, dx; 0..255 for -1..1, src/instances/flow-target.ts), read the same way. */
  readonly flowY?: MapBytes;
  readonly flowX?: MapBytes;
  /**
   * The map is the rough pass's own answer (a box kept rough, `roughOnlyUpTo`): drawn as it is, not clipped to the
   * bound, which is that same answer upsampled by nearest neighbour, in blocks.
   */
  readonly rough?: boolean;
  /** The map's side when it is not the results' `size` (a box kept rough gets one no larger than the box). */
  readonly side?: number;
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
  /**
   * How overlapping crops' foreground fuses: `union` (the paper's: foreground wherever any crop says so; the default)
   * or `centre`, the centre-weighted mean of their probabilities, as an instance pair's cores fuse: a crop that cuts a
   * neighbouring object at its border, where it lacks the context, counts little there. The streaming pipeline takes
   * `centre` for instance pairs (on the validation parts of both catalog instance pairs: StS DSC +0.002 on DSB2018,
   * +0.012 on MoNuSeg, mean AP +0.003 / +0.014; docs/results/nuclei-instances/README.md).
   */
  readonly foreground?: 'union' | 'centre';
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
  // The fine maps, clipped to the bound; then the maps kept rough, which are the bound's own answer, smooth.
  if (fine.foreground === 'centre') {
    weighFineMaps(fine, region, indices, canvas);
    if (fine.bound) clipToBound(canvas, region, fine.bound);
  }
  for (const pass of fine.foreground === 'centre' ? [true] : [false, true]) {
    for (const i of indices) {
      const { box, map, rough = false, side = fine.size } = fine.results[i];
      if (rough !== pass) continue;
      if (box.top >= region.top + region.height || box.top + box.height <= region.top) continue;
      if (box.left >= region.left + region.width || box.left + box.width <= region.left) continue;
      const shifted = { left: box.left - region.left, top: box.top - region.top, width: box.width, height: box.height };
      fuseInto(canvas, bytesOf(map), side, shifted, { mode: fine.mode, threshold: THRESHOLD });
    }
    if (!pass && fine.bound) clipToBound(canvas, region, fine.bound);
  }
  return canvas;
}

/** Sets `canvas` where the centre-weighted mean of the covering fine maps (not those kept rough) is foreground. */
function weighFineMaps(fine: FineResults, region: Box, indices: readonly number[], canvas: Mask<Uint8Array>): void {
  const pixels = region.width * region.height;
  const sum = new Float32Array(pixels);
  const weight = new Float32Array(pixels);
  for (const i of indices) {
    const { box, map, rough = false } = fine.results[i];
    if (rough) continue;
    if (box.top >= region.top + region.height || box.top + box.height <= region.top) continue;
    if (box.left >= region.left + region.width || box.left + box.width <= region.left) continue;
    const shifted = { left: box.left - region.left, top: box.top - region.top, width: box.width, height: box.height };
    weighInto(sum, weight, region.width, region.height, bytesOf(map), fine.size, shifted, { mode: fine.mode });
  }
  for (let i = 0; i < pixels; i++) if (weight[i] > 0 && sum[i] >= THRESHOLD * weight[i]) canvas.data[i] = 1;
}

/**
 * The fused object cores of `region` (0/1), or undefined without cores: by default the centre-weighted mean of the
 * covering crops' core probabilities (fusion.ts's weighInto), parted at `coreLevels` (instances/seed-levels.ts),
 * else by majority or any of their thresholded votes.
 */
export function renderCores(fine: FineResults, region: Box, only?: readonly number[], o: InstanceOptions = {}): Uint8Array | undefined {
  const threshold = (o.coreThreshold ?? 0.5) * 255;
  const vote = o.coreVote ?? DEFAULT_CORE_VOTE;
  if (vote === 'centre') {
    const p = fusedCoreProbability(fine, region, only);
    return p && seedsByLevels(p, region.width, region.height, o.coreThreshold ?? 0.5, o.coreLevels ?? CORE_LEVELS);
  }
  const indices = only ?? fine.results.map((_, i) => i);
  if (!indices.some((i) => fine.results[i].core)) return undefined;
  const pixels = region.width * region.height;
  const out = new Uint8Array(pixels);
  const votes = new Uint16Array(pixels);
  const cover = new Uint16Array(pixels);
  for (const { core, shifted } of coreBoxes(fine, region, indices)) voteInto(votes, cover, region.width, region.height, core, fine.size, shifted, { mode: fine.mode, threshold });
  for (let i = 0; i < pixels; i++) out[i] = votes[i] > 0 && (vote === 'any' || votes[i] * 2 >= cover[i]) ? 1 : 0;
  return out;
}

/** The centre-weighted mean of the covering crops' core probabilities over `region` (0..1; 0 where none covers). */
export function fusedCoreProbability(fine: FineResults, region: Box, only?: readonly number[]): Float32Array | undefined {
  const indices = only ?? fine.results.map((_, i) => i);
  if (!indices.some((i) => fine.results[i].core)) return undefined;
  const pixels = region.width * region.height;
  const sum = new Float32Array(pixels);
  const weight = new Float32Array(pixels);
  for (const { core, shifted } of coreBoxes(fine, region, indices)) weighInto(sum, weight, region.width, region.height, core, fine.size, shifted, { mode: fine.mode });
  for (let i = 0; i < pixels; i++) sum[i] = weight[i] > 0 ? sum[i] / (255 * weight[i]) : 0;
  return sum;
}

/**
 * The fused centre flows of `region` (dy, dx interleaved, -1..1), or undefined without flows: the centre-weighted
 * mean of the covering crops' flows, as the cores fuse. A crop's flows are in its own pixels, resized to S x S; the
 * boxes are squares (or S x S windows), so a direction there is the same direction in the image.
 */
export function renderFlows(fine: FineResults, region: Box, only?: readonly number[]): Float32Array | undefined {
  const indices = (only ?? fine.results.map((_, i) => i)).filter((i) => fine.results[i].flowY && fine.results[i].flowX);
  if (indices.length === 0) return undefined;
  const pixels = region.width * region.height;
  const sumY = new Float32Array(pixels);
  const sumX = new Float32Array(pixels);
  const weight = new Float32Array(pixels);
  for (const i of indices) {
    const { box, flowY, flowX } = fine.results[i];
    const shifted = { left: box.left - region.left, top: box.top - region.top, width: box.width, height: box.height };
    weighInto(sumY, weight, region.width, region.height, bytesOf(flowY!), fine.size, shifted, { mode: fine.mode });
    weighInto(sumX, null, region.width, region.height, bytesOf(flowX!), fine.size, shifted, { mode: fine.mode });
  }
  const flows = new Float32Array(2 * pixels);
  for (let i = 0; i < pixels; i++) {
    if (weight[i] <= 0) continue;
    flows[2 * i] = unitToFlow(sumY[i] / (255 * weight[i]));
    flows[2 * i + 1] = unitToFlow(sumX[i] / (255 * weight[i]));
  }
  return flows;
}

function coreBoxes(fine: FineResults, region: Box, indices: readonly number[]): { core: Uint8Array; shifted: Box }[] {
  return indices.filter((i) => fine.results[i].core).map((i) => {
    const { box, core } = fine.results[i];
    return { core: bytesOf(core!), shifted: { left: box.left - region.left, top: box.top - region.top, width: box.width, height: box.height } };
  });
}

/** Longest side of a result's pictures: `sts predict`'s overlay.png and the mask the page offers for a slide. */
export const OVERLAY_SIDE = 2048;

/** An image of `width` x `height` reduced to at most `side` pixels on its longest side (never enlarged). */
export function overlaySize(width: number, height: number, side = OVERLAY_SIDE): { width: number; height: number } {
  const k = Math.min(1, side / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}

/**
 * The fused mask of `region` (full-resolution pixels) reduced to `width` x `height` by PyTorch's nearest rule:
 * exactly the pixels that resizing the whole full-resolution mask would pick, rendered one needed row at a time
 * from the boxes that cross it. A slide's mask at overlay resolution, or one viewer tile of it, costs its own
 * size and its boxes, never the slide's full-resolution mask.
 */
export function renderDownscaled(fine: FineResults, region: Box, width: number, height: number): Mask<Uint8Array> {
  const out = new Uint8Array(width * height);
  const rows = nearestSourceIndices(region.height, height);
  const cols = nearestSourceIndices(region.width, width);
  const { results } = fine;
  const meets: number[] = [];
  for (let i = 0; i < results.length; i++) {
    const b = results[i].box;
    if (b.top < region.top + region.height && b.top + b.height > region.top && b.left < region.left + region.width && b.left + b.width > region.left) meets.push(i);
  }
  meets.sort((a, b) => results[a].box.top - results[b].box.top);
  // Each row is rendered from the boxes crossing it; their maps are unpacked once, as a box enters the rows, and
  // let go as it leaves. Left to bytesOf's small cache, a zoomed-out tile whose rows each cross more boxes than it
  // holds would inflate every map again for every row (the page's 40,000-pixel slide: 4x slower fine pass).
  const unpacked = new Map<number, FineResult>();
  let next = 0;
  let active: number[] = [];
  let lastY = -1;
  for (let r = 0; r < height; r++) {
    const y = region.top + rows[r];
    if (y === lastY) {
      // Enlarging (a viewer tile zoomed past full resolution): the row is the one above.
      out.copyWithin(r * width, (r - 1) * width, r * width);
      continue;
    }
    lastY = y;
    while (next < meets.length && results[meets[next]].box.top <= y) active.push(meets[next++]);
    active = active.filter((i) => {
      if (results[i].box.top + results[i].box.height > y) return true;
      unpacked.delete(i);
      return false;
    });
    if (active.length === 0) continue;
    for (const i of active) if (!unpacked.has(i)) unpacked.set(i, { ...results[i], map: bytesOf(results[i].map) });
    // Only the span the crossing boxes cover is rendered; the rest of the row is background.
    let left = Infinity;
    let right = -Infinity;
    for (const i of active) {
      left = Math.min(left, results[i].box.left);
      right = Math.max(right, results[i].box.left + results[i].box.width);
    }
    left = Math.max(left, region.left);
    right = Math.min(right, region.left + region.width);
    if (right <= left) continue;
    const row = { ...fine, results: active.map((i) => unpacked.get(i)!) };
    const line = renderRegion(row, { left, top: y, width: right - left, height: 1 }).data;
    const o = r * width;
    for (let c = 0; c < width; c++) {
      const x = region.left + cols[c];
      if (x >= left && x < right) out[o + c] = line[x - left];
    }
  }
  return { width, height, channels: 1, data: out };
}

/**
 * The baseline, the paper's comparison (the rough mask upsampled to the image by nearest neighbour), in the shape of
 * fine results, so that it is rendered, counted and exported by the same code as Segment-then-Segment's: one
 * all-foreground map per rough component over the full-resolution pixels it covers, bounded by the rough mask.
 */
export function roughResults(rough: Mask<Uint8Array>, width: number, height: number): FineResults {
  const full = Uint8Array.of(255);
  let boxes: Box[];
  if (width < rough.width || height < rough.height) {
    // Upsampling that is really a downsampling (an image smaller than S): one box over the whole (small) image.
    boxes = [{ left: 0, top: 0, width, height }];
  } else {
    const rowStart = nearestCoverageStarts(rough.height, height);
    const colStart = nearestCoverageStarts(rough.width, width);
    boxes = connectedComponents(rough).boxes.map((b) => ({
      left: colStart[b.left],
      top: rowStart[b.top],
      width: colStart[b.left + b.width] - colStart[b.left],
      height: rowStart[b.top + b.height] - rowStart[b.top],
    }));
    boxes.sort((a, b) => a.top - b.top || a.left - b.left);
  }
  return { size: 1, mode: 'nearest', results: boxes.map((box) => ({ box, map: full })), bound: { mask: rough, width, height } };
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
 * The objects of the fused mask, found group by group of touching boxes, so no full-resolution mask is needed and
 * every object is found once, whole, whatever boxes and tiles it spans: the 8-connected components, or, when the
 * fine network gave object cores, each component split among the cores inside it (instances/split-by-cores.ts).
 * The cores of overlapping crops are fused by a mean weighted towards each crop's centre (renderCores): a crop that
 * cuts a neighbouring object sees too little of it to place its core, and an OR would let its guess split that
 * object. An instance pair's objects under 15 px are dropped (split-by-cores.ts). Objects are numbered from 1 in
 * the order of their group's top edge. `imageWidth` and `imageHeight` clip groups.
 */
export function* detectObjects(fine: FineResults, imageWidth: number, imageHeight: number): Generator<DetectedObject> {
  for (const region of detectObjectRegions(fine, imageWidth, imageHeight)) yield* region.objects;
}

/** How an instance pair's foreground fuses (FineResults.foreground): as its cores, centre-weighted. */
export const INSTANCE_FOREGROUND = 'centre' as const;

/** The default fusion of overlapping crops' cores (InstanceOptions.coreVote). */
export const DEFAULT_CORE_VOTE = 'centre';

/** How an instance pair's cores become objects (the defaults were chosen on the nuclei pair's validation part). */
export interface InstanceOptions extends SplitOptions {
  /** A crop's core probability counts from this value. Default 0.5. */
  readonly coreThreshold?: number;
  /**
   * Fusion of overlapping crops' cores: `centre` (their probabilities averaged, each crop weighted towards its centre),
   * `majority` (at least half the covering crops say core) or `any`. Default centre.
   */
  readonly coreVote?: 'centre' | 'majority' | 'any';
  /**
   * With the `centre` vote: the levels above the threshold at which a fused core may part into seeds
   * (instances/seed-levels.ts). Default `CORE_LEVELS`.
   */
  readonly coreLevels?: SeedLevelOptions;
  /**
   * How the foreground is shared among the seeds: `distance` (each pixel to the nearest seed through the foreground)
   * or `relief` (a watershed down the fused core probability: the border falls in the valley between two objects'
   * depths; with the `centre` vote). Default `CORE_FLOOD`.
   */
  readonly coreFlood?: 'distance' | 'relief';
  /** A flow network's decoding (instances/follow-flows.ts); its smallest object is `minSize`. */
  readonly flowDecode?: Omit<FlowDecodeOptions, 'minSize'>;
}

/** How the foreground is shared among the seeds (InstanceOptions.coreFlood): by distance, until measured otherwise. */
export const CORE_FLOOD = 'distance';

/** The levels at which a fused core parts (InstanceOptions.coreLevels): none, until measured otherwise. */
export const CORE_LEVELS: SeedLevelOptions = { levels: [], minPiece: 8 };

/** One group of touching boxes: its rectangle in the image, its objects, and their labels there (ids as label). */
export interface ObjectRegion {
  readonly rect: Box;
  readonly objects: readonly DetectedObject[];
  /** rect.width x rect.height, 0 = none, else the object's id. */
  readonly labels: Int32Array;
}

/** `detectObjects` group by group, with each group's label image (for label-map outputs). */
export function* detectObjectRegions(fine: FineResults, imageWidth: number, imageHeight: number, o: InstanceOptions = {}): Generator<ObjectRegion> {
  let id = 0;
  for (const group of groupBoxes(fine.results.map((r) => r.box))) {
    const l = Math.max(0, group.rect.left);
    const t = Math.max(0, group.rect.top);
    const rect = { left: l, top: t, width: Math.min(imageWidth, group.rect.left + group.rect.width) - l, height: Math.min(imageHeight, group.rect.top + group.rect.height) - t };
    if (rect.width <= 0 || rect.height <= 0) continue;
    const foreground = renderRegion(fine, rect, group.members);
    const map = regionLabelMap(fine, rect, group.members, foreground, o);
    const objects = objectsOfLabels(map, { left: rect.left, top: rect.top, firstId: id + 1 }, map.count);
    // objectsOfLabels numbers the non-empty labels consecutively from firstId: label k becomes id + k.
    const labels = map.data;
    for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) labels[i] += id;
    id += objects.length;
    yield { rect, objects, labels };
  }
}

/** One group's objects in its region, numbered from 1: by the fine network's flows, its cores, or the components. */
function regionLabelMap(fine: FineResults, rect: Box, members: readonly number[], foreground: Mask<Uint8Array>, o: InstanceOptions): LabelMap<Int32Array> & { readonly count: number } {
  const flows = renderFlows(fine, rect, members);
  if (flows) return labelsByFlows(foreground.data, flows, rect.width, rect.height, { ...o.flowDecode, ...(o.minSize !== undefined ? { minSize: o.minSize } : {}) });
  // Flooding by relief reads the fused core probability itself; the seeds come from it as renderCores makes them.
  const relief = (o.coreFlood ?? CORE_FLOOD) === 'relief' && (o.coreVote ?? DEFAULT_CORE_VOTE) === 'centre' ? fusedCoreProbability(fine, rect, members) : undefined;
  const cores = relief ? seedsByLevels(relief, rect.width, rect.height, o.coreThreshold ?? 0.5, o.coreLevels ?? CORE_LEVELS) : renderCores(fine, rect, members, o);
  return cores ? splitByCores(foreground.data, cores, rect.width, rect.height, relief ? { ...o, relief } : o) : componentsOf(foreground);
}

/** Copies a region's object labels (ids) into the image's label map. */
export function pasteLabels(labels: Int32Array, width: number, region: ObjectRegion): void {
  const { rect } = region;
  for (let y = 0; y < rect.height; y++) {
    const row = (rect.top + y) * width + rect.left;
    for (let x = 0; x < rect.width; x++) {
      const v = region.labels[y * rect.width + x];
      if (v !== 0) labels[row + x] = v;
    }
  }
}

/** The objects of `fine` as one label map of the image (object ids as labels): for images that fit in memory. */
export function objectLabelMap(fine: FineResults, width: number, height: number, o: InstanceOptions = {}): LabelMap<Int32Array> {
  const labels = new Int32Array(width * height);
  for (const region of detectObjectRegions(fine, width, height, o)) pasteLabels(labels, width, region);
  return { width, height, data: labels };
}

/** Channel `channel` of an interleaved map with `stride` channels, as 0..255. */
export function quantise(m: ArrayLike<number>, channel: number, stride: number, pixels: number): Uint8Array {
  const q = new Uint8Array(pixels);
  for (let k = 0; k < pixels; k++) q[k] = Math.round(Math.min(1, Math.max(0, m[k * stride + channel])) * 255);
  return q;
}

function componentsOf(mask: Mask<Uint8Array>): LabelMap<Int32Array> & { count: number } {
  const components = connectedComponents(mask);
  return { width: mask.width, height: mask.height, data: labelImage(components), count: components.count };
}
