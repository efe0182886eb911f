/**
 * Segment-then-Segment on an image of any size, read through an `ImageSource`:
 * - rough pass: an image no larger than about the training images is downscaled to S x S, as in the paper; a larger
 *   one is downscaled by the training scale (so objects keep the size the rough network learned) and segmented
 *   tile by tile with overlap into one low-resolution mask;
 * - the mask's components become full-resolution boxes (the same geometry as Algorithm 1);
 * - each box is read from the source as a window, resized to S x S, and the fine network runs on batches of them;
 *   a box far larger than an object is covered by S x S windows at full resolution instead.
 * The result is the fine maps with their boxes; no full-resolution image or mask is ever held.
 */
import { ArgumentError, StsError } from '../errors.js';
import type { ImageSource } from '../types/image-source.js';
import type { TrainingScale } from '../types/training-scale.js';
import { type DropPolicy, paddingForSize, windowSide } from '../geometry/boxes.js';
import { cropResize } from '../geometry/crop.js';
import { proposeBoxes } from '../geometry/proposals.js';
import type { Box, Mask, Raster } from '../geometry/raster.js';
import { nearestSourceIndices, type ResizeMode } from '../geometry/resize.js';
import { downscaleReader } from './downscale-reader.js';
import { type FineResult, type FineResults, INSTANCE_FOREGROUND, quantise } from './fine-results.js';
import { bytesOf, packBytes } from './packed-maps.js';
import { type SegmentationNetwork, outputsOf } from '../types/network.js';
import type { OnProgress } from '../types/progress.js';
import { DEFAULT_DROP_POLICY } from './segment-then-segment.js';
import { cutSides, grownBox } from '../geometry/crop-growth.js';
import { type TiledRoughResult, tiledRough, tileStarts } from './tiled-rough.js';
import { yieldingNetwork } from './yielding-network.js';

export interface StreamingOptions {
  readonly size: number;
  readonly rough: SegmentationNetwork;
  readonly fine: SegmentationNetwork;
  /** The rough network's training scale; without it every image gets the paper's single S x S pass. */
  readonly scale?: Pick<TrainingScale, 'factorX' | 'factorY'>;
  /** Tile the rough pass when the downscaled image exceeds this many S in a dimension (default 2). */
  readonly tileAbove?: number;
  readonly overlap?: number;
  readonly dropPolicy?: DropPolicy;
  readonly resizeMode?: ResizeMode;
  readonly padding?: number;
  /** Crops per fine network call (and per round of window reads). */
  readonly batchSize?: number;
  /**
   * A box with a side longer than this (full-resolution pixels) is segmented as S x S windows at full resolution
   * rather than squeezed into one S x S crop: a rough component that large is a cluster or a false blob, not one
   * object of the kind the fine network learned, and squeezed it comes back as coarse blocks. Default: no limit
   * (the paper). Measured on the 8,000 x 8,000 DSB2018 mosaic with 4 S: DSC 0.457 -> 0.666, time 18.7 -> 45.4 s.
   */
  readonly maxCropSide?: number;
  /**
   * Rounds of crop growth (geometry/crop-growth.ts): a crop whose fine mask reaches its border where the image goes
   * on is grown on those sides and segmented again, up to this many times. Default 0.
   */
  readonly growCrops?: number;
  /**
   * Keep the fine masks only inside the rough mask (upsampled to the image): the fine network may refine an object
   * the rough pass found but not add pixels around it. The fine network was trained on crops that each hold an
   * object, so on a crop of a rough false positive (cytoplasm, debris, an image edge) it still draws one; here the
   * rough mask of a tiled pass, at a quarter of the resolution or finer, bounds it. Default: off (the paper pastes
   * the fine masks as they are). See docs/results/large-images.md for what it does on the DSB2018 mosaics.
   */
  readonly withinRough?: boolean;
  /**
   * With `withinRough`: a box holding at most this many foreground pixels of the rough mask gets no fine crop and
   * keeps the rough answer: the rough probability upsampled bilinearly to the box and thresholded, so its objects
   * are smooth, not blocks of rough pixels. A tiled rough pass already sees such small objects at the size it learned, and
   * the bounded fine pass changes them little; its work goes to the large components, where the rough pass errs
   * (merged cells, cytoplasm). Default 0: every box gets a fine crop.
   */
  readonly roughOnlyUpTo?: number;
  /**
   * Return the rough mask with the result (default true: an evaluation scores it as the baseline, the page shows it).
   * False lets it go once the boxes are proposed, unless `withinRough` needs it as the bound: a byte per rough pixel,
   * 80 MB for a 40,000-pixel slide at the nuclei pair's scale, that `sts predict` would otherwise hold through the
   * fine pass and the outputs without reading it.
   */
  readonly keepRoughMask?: boolean;
  /**
   * Keep the fine maps deflated until they are read (packed-maps.ts; default true): a slide's crops all wait for its
   * outputs. The page passes false: its viewer draws the whole slide again as crops arrive, and would inflate every
   * map for each zoomed-out tile; it holds a 40,000-pixel slide's maps unpacked well inside its memory budget.
   */
  readonly packMaps?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: OnProgress;
  /**
   * Told of fine results as they arrive (the boxes kept rough first, then each batch of fine crops), with all
   * results so far, so that a viewer can show a slide region by region instead of at the end. `partial` grows as
   * the run goes on.
   */
  readonly onResults?: (added: readonly FineResult[], partial: FineResults, kind: 'rough-only' | 'fine') => void;
}

export interface StreamingResult extends FineResults {
  readonly width: number;
  readonly height: number;
  /** Whether the objects are instances (the fine network gave object cores), not connected components. */
  readonly instances: boolean;
  readonly rough: { readonly mode: 'single' | 'tiled'; readonly width: number; readonly height: number; readonly tiles: number; readonly flatTiles: number; readonly level: number };
  /** The rough pass's mask at its own resolution; absent when `keepRoughMask` was false. */
  readonly roughMask?: Mask<Uint8Array>;
  readonly boxes: readonly Box[];
  /** Boxes that kept the rough mask without a fine crop (`roughOnlyUpTo`). */
  readonly roughOnly: number;
}

/** The result's rough mask, for callers that kept it (every caller but `sts predict`, which lets it go). */
export function roughMaskOf(result: StreamingResult): Mask<Uint8Array> {
  if (!result.roughMask) throw new StsError('the rough mask was let go during the run (keepRoughMask: false); run again without that option to read it');
  return result.roughMask;
}

/** Rough-pass pixels at most: its mask is one byte each (2 GB), and typed arrays end at 2^32 elements. */
export const MAX_ROUGH_PIXELS = 2 ** 31;

const count = (n: number) => n.toLocaleString('en-US');

/** Size of the rough pass's downscaled image: S x S for the paper's pass, else the image over the training scale. */
export function roughPlan(
  width: number,
  height: number,
  size: number,
  scale: StreamingOptions['scale'],
  tileAbove = 2,
): { mode: 'single' | 'tiled'; width: number; height: number } {
  if (!scale) return { mode: 'single', width: size, height: size };
  const w = Math.max(1, Math.round(width / scale.factorX));
  const h = Math.max(1, Math.round(height / scale.factorY));
  if (w <= tileAbove * size && h <= tileAbove * size) return { mode: 'single', width: size, height: size };
  return { mode: 'tiled', width: w, height: h };
}

export async function streamingSegmentThenSegment(source: ImageSource, o: StreamingOptions): Promise<StreamingResult> {
  const S = o.size;
  if (o.scale && !(o.scale.factorX > 0 && o.scale.factorY > 0)) {
    throw new ArgumentError('scale', `factors must be positive, got ${o.scale.factorX} x ${o.scale.factorY}`);
  }
  // Every network call may first give the event loop a turn: Ctrl-C and lock renewals are heard during long passes.
  o = { ...o, rough: yieldingNetwork(o.rough), fine: yieldingNetwork(o.fine) };
  const roughOnlyUpTo = o.roughOnlyUpTo ?? 0;
  const pack = o.packMaps === false ? (bytes: Uint8Array) => bytes : packBytes;
  if (!(Number.isInteger(roughOnlyUpTo) && roughOnlyUpTo >= 0)) throw new ArgumentError('roughOnlyUpTo', `must be a whole number of rough-mask pixels, got ${roughOnlyUpTo}`);
  if (roughOnlyUpTo > 0 && !o.withinRough) throw new ArgumentError('roughOnlyUpTo', 'keeps the rough mask of small components, which needs withinRough (the rough mask bounds what is drawn)');
  const mode = o.resizeMode ?? 'nearest';
  // An instance network's fine maps hold the foreground and the object cores (src/instances/).
  const fineOutputs = outputsOf(o.fine);
  if (outputsOf(o.rough) !== 1) throw new ArgumentError('rough', 'gives object cores besides the foreground; a rough network gives one map: use a model trained with --stage rough');
  const batchSize = o.batchSize ?? 32;
  const plan = roughPlan(source.width, source.height, S, o.scale, o.tileAbove);
  const overlap = o.overlap ?? Math.floor(S / 4);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= S) throw new ArgumentError('overlap', `must be an integer in [0, ${S - 1}], got ${overlap}`);
  // The rough mask is one byte per rough pixel: a scale too fine for a huge image is named before any is read.
  if (plan.width * plan.height > MAX_ROUGH_PIXELS) {
    const fits = Math.max(o.scale?.factorX ?? 0, o.scale?.factorY ?? 0) * Math.sqrt((plan.width * plan.height) / MAX_ROUGH_PIXELS);
    throw new StsError(
      `the image is ${count(source.width)} x ${count(source.height)}: at ${o.scale?.factorX.toPrecision(3)} original pixels per rough input pixel its rough pass would be ` +
        `${count(plan.width)} x ${count(plan.height)} (${((plan.width * plan.height) / 1e9).toFixed(1)} gigapixels, beyond the ${(MAX_ROUGH_PIXELS / 1e9).toFixed(1)} it can hold); give --scale ${Math.ceil(fits * 100) / 100} or larger`,
    );
  }
  const tiles = tileStarts(plan.width, S, overlap).length * tileStarts(plan.height, S, overlap).length;
  o.onProgress?.({ stage: 'rough', done: 0, total: tiles, plan: { width: source.width, height: source.height, mode: plan.mode, roughWidth: plan.width, roughHeight: plan.height, tiles } });
  // The paper's pass reads level 0 so that it equals resize(image, S, S) exactly; the tiled pass may use a pyramid.
  const reader = downscaleReader(source, plan.width, plan.height, { exact: plan.mode === 'single' });
  let roughPass: TiledRoughResult | undefined = await tiledRough(reader, {
    size: S,
    network: o.rough,
    overlap,
    batchSize,
    signal: o.signal,
    onProgress: o.onProgress,
    // The boxes kept rough are drawn from the rough probability (below), kept only until they are.
    probability: roughOnlyUpTo > 0,
  });
  const rough = { tiles: roughPass.tiles, flatTiles: roughPass.flatTiles };
  let roughMask: Mask<Uint8Array> | undefined = roughPass.mask;
  // A byte per rough pixel (80 MB for a 40,000-pixel slide): let go as soon as the small boxes have their maps.
  let probability = roughPass.probability;
  roughPass = undefined;
  o.signal?.throwIfAborted();

  const image = { width: source.width, height: source.height };
  const proposed = proposeBoxes(roughMask, image, { padding: o.padding ?? paddingForSize(S), dropPolicy: o.dropPolicy ?? DEFAULT_DROP_POLICY });
  const boxes = splitLargeBoxes(proposed, o.maxCropSide ?? Infinity, S, overlap, image);
  // Top to bottom, so that the mask can later be rendered band by band and windows of a batch lie close together.
  const order = [...boxes].sort((a, b) => a.top - b.top || a.left - b.left);
  const results: FineResult[] = [];
  const bound = o.withinRough ? { bound: { mask: roughMask, width: source.width, height: source.height } } : {};
  const foreground = fineOutputs > 1 ? { foreground: INSTANCE_FOREGROUND } : {};
  const partial: FineResults = { size: S, mode, results, ...bound, ...foreground };
  let toRefine: readonly Box[] = order;
  if (roughOnlyUpTo > 0) {
    // Each small box gets the rough probability upsampled bilinearly to it, thresholded as a fine map is: its
    // objects follow the rough pass's outline smoothly instead of in blocks of rough pixels (the bound's nearest
    // upsampling, which these maps are not clipped to).
    const count = roughPixelCounter(roughMask, image);
    const refine: Box[] = [];
    for (const box of order) {
      if (count(box) > roughOnlyUpTo) refine.push(box);
      else {
        // No finer than the box itself: a slide has tens of thousands of these boxes, each kept until the end.
        const side = Math.min(S, Math.max(box.width, box.height));
        results.push({ box, map: pack(roughMapOfBox(probability!, roughMask, image, box, side)), rough: true, ...(side !== S ? { side } : {}) });
      }
    }
    toRefine = refine;
    probability = undefined;
    if (results.length > 0) o.onResults?.(results.slice(), partial, 'rough-only');
  }
  const keptRoughMask = o.keepRoughMask === false ? undefined : roughMask;
  roughMask = undefined;
  // The fine pass over `these` boxes, in batches; returns their results (told to onResults as they come).
  const refine = async (these: readonly Box[], progress: boolean): Promise<FineResult[]> => {
    const out: FineResult[] = [];
    const readCrops = (start: number) =>
      mapLimit(these.slice(start, start + batchSize), 4, async (box): Promise<Raster<Float32Array>> => {
        const window = await source.read(box);
        return cropResize(window, { left: 0, top: 0, width: box.width, height: box.height }, S, S, mode);
      });
    // The next batch's windows are read while the network runs on this one: a file's reads (I/O, and in Node
    // libvips' decoding on its own threads) overlap inference instead of waiting for it. One batch ahead at most.
    let next: Promise<Raster<Float32Array>[]> | undefined = these.length > 0 ? readCrops(0) : undefined;
    for (let start = 0; start < these.length; start += batchSize) {
      o.signal?.throwIfAborted();
      const chunk = these.slice(start, start + batchSize);
      const crops = await next!;
      next = start + batchSize < these.length ? readCrops(start + batchSize) : undefined;
      // A read that fails while this batch runs is reported when its batch comes, or not at all if the run stops.
      next?.catch(() => undefined);
      const maps = await o.fine(crops);
      if (!Array.isArray(maps) || maps.length !== crops.length) {
        throw new ArgumentError('fine', `returned ${Array.isArray(maps) ? maps.length : typeof maps} maps for ${crops.length} crops`);
      }
      const added = chunk.map((box, i): FineResult => {
        const m = maps[i];
        if (m.length !== S * S * fineOutputs) throw new ArgumentError('fine', `returned a map of ${m.length} values for a ${S} x ${S} crop with ${fineOutputs} output${fineOutputs === 1 ? '' : 's'}`);
        // Kept deflated (unless packMaps is false) until the outputs are written: a slide's crops all wait for them.
        const map = pack(quantise(m, 0, fineOutputs, S * S));
        if (fineOutputs === 3) return { box, map, flowY: pack(quantise(m, 1, 3, S * S)), flowX: pack(quantise(m, 2, 3, S * S)) };
        return fineOutputs === 2 ? { box, map, core: pack(quantise(m, 1, 2, S * S)) } : { box, map };
      });
      out.push(...added);
      if (progress) {
        results.push(...added);
        o.onResults?.(added, partial, 'fine');
        o.onProgress?.({ stage: 'fine', done: Math.min(these.length, start + batchSize), total: these.length });
      }
    }
    return out;
  };
  const refinedFrom = results.length;
  await refine(toRefine, true);
  for (let round = 0; round < (o.growCrops ?? 0); round++) {
    // Each fine mask cut at its crop's border where the image goes on: the crop grows there and is segmented again.
    const grown: { i: number; box: Box }[] = [];
    for (let i = refinedFrom; i < results.length; i++) {
      const { box, map } = results[i];
      const sides = cutSides(bytesOf(map), S, box, image, { threshold: 127.5 });
      const bigger = sides && grownBox(box, sides, image);
      if (bigger) grown.push({ i, box: bigger });
    }
    if (grown.length === 0) break;
    const again = await refine(grown.map((g) => g.box), false);
    grown.forEach(({ i }, k) => (results[i] = again[k]));
    o.onResults?.(again, partial, 'fine');
  }
  if (toRefine !== order || (o.growCrops ?? 0) > 0) results.sort((a, b) => a.box.top - b.box.top || a.box.left - b.box.left);
  return {
    width: source.width,
    height: source.height,
    size: S,
    mode,
    results,
    boxes: order,
    ...(keptRoughMask ? { roughMask: keptRoughMask } : {}),
    roughOnly: order.length - toRefine.length,
    instances: fineOutputs > 1,
    ...bound,
    ...foreground,
    rough: { mode: plan.mode, width: plan.width, height: plan.height, tiles: rough.tiles, flatTiles: rough.flatTiles, level: reader.level },
  };
}


/**
 * Boxes with a side above `maxSide` replaced by square windows covering them (`windowSide`: S x S at full
 * resolution, or `maxSide` wide where that is smaller; overlapping by `overlap` scaled to the window, kept inside the
 * image when it is at least a window wide and high); duplicates removed.
 */
export function splitLargeBoxes(boxes: readonly Box[], maxSide: number, S: number, overlap: number, image: { width: number; height: number }): Box[] {
  const out: Box[] = [];
  const seen = new Set<string>();
  const push = (b: Box) => {
    const key = `${b.left},${b.top},${b.width},${b.height}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(b);
    }
  };
  const W = windowSide(maxSide, S);
  const windowOverlap = Math.min(W - 1, Math.round((overlap * W) / S));
  const inside = (start: number, limit: number) => (limit >= W ? Math.max(0, Math.min(start, limit - W)) : start);
  for (const box of boxes) {
    if (Math.max(box.width, box.height) <= maxSide) {
      push(box);
      continue;
    }
    for (const y of tileStarts(box.height, W, windowOverlap)) {
      for (const x of tileStarts(box.width, W, windowOverlap)) {
        push({ left: inside(box.left + x, image.width), top: inside(box.top + y, image.height), width: W, height: W });
      }
    }
  }
  return out;
}

/**
 * The rough probability (quantised, laid out as `mask`) under a full-resolution box as a `side` x `side` map: each
 * map pixel holds the value at the box pixel(s) that read it when the map is drawn (nearest, as fine maps are; the
 * mean of them when several do, for a box larger than the map), sampled bilinearly from the rough pixels where they
 * lie: the rough pass's image is the full one sampled by the nearest rule (its pixel i is the full image's
 * floor(i * full / rough)), so rough pixel i stands at i * full / rough, not at a block's centre.
 */
export function roughMapOfBox(probability: Uint8Array, mask: Mask<Uint8Array>, image: { width: number; height: number }, box: Box, side: number): Uint8Array {
  const taps = (boxStart: number, boxSize: number, full: number, rough: number) => {
    // Where each map index is read from: the mean of the box pixels reading it; an index none reads (a map
    // finer than the box) takes its centre's position.
    const sum = new Float64Array(side);
    const count = new Int32Array(side);
    nearestSourceIndices(side, boxSize).forEach((m, b) => {
      sum[m] += b;
      count[m]++;
    });
    const i0 = new Int32Array(side);
    const i1 = new Int32Array(side);
    const w = new Float32Array(side);
    for (let m = 0; m < side; m++) {
      const x = boxStart + (count[m] > 0 ? sum[m] / count[m] : ((m + 0.5) * boxSize) / side - 0.5);
      const u = Math.min(rough - 1, Math.max(0, (x * rough) / full));
      i0[m] = Math.floor(u);
      i1[m] = Math.min(rough - 1, i0[m] + 1);
      w[m] = u - i0[m];
    }
    return { i0, i1, w };
  };
  const tx = taps(box.left, box.width, image.width, mask.width);
  const ty = taps(box.top, box.height, image.height, mask.height);
  const map = new Uint8Array(side * side);
  const W = mask.width;
  for (let my = 0; my < side; my++) {
    const r0 = ty.i0[my] * W;
    const r1 = ty.i1[my] * W;
    const wy = ty.w[my];
    for (let mx = 0; mx < side; mx++) {
      const c0 = tx.i0[mx];
      const c1 = tx.i1[mx];
      const wx = tx.w[mx];
      const top = (1 - wx) * probability[r0 + c0] + wx * probability[r0 + c1];
      const bottom = (1 - wx) * probability[r1 + c0] + wx * probability[r1 + c1];
      map[my * side + mx] = Math.round((1 - wy) * top + wy * bottom);
    }
  }
  return map;
}

/** Counts the rough mask's foreground pixels under a full-resolution box (the rough pixels its pixels come from). */
function roughPixelCounter(mask: Mask<Uint8Array>, image: { width: number; height: number }): (box: Box) => number {
  const rows = nearestSourceIndices(mask.height, image.height);
  const cols = nearestSourceIndices(mask.width, image.width);
  return (box) => {
    const clip = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
    const r0 = rows[clip(box.top, image.height)];
    const r1 = rows[clip(box.top + box.height - 1, image.height)];
    const c0 = cols[clip(box.left, image.width)];
    const c1 = cols[clip(box.left + box.width - 1, image.width)];
    let n = 0;
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) n += mask.data[r * mask.width + c] !== 0 ? 1 : 0;
    return n;
  };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
