/**
 * Algorithm 1 of the paper, end to end, with the two networks passed in as functions: rough-segment the image
 * downscaled to S x S, propose one padded square box per component, segment every full-resolution crop (resized to
 * S x S) in one batch, and OR the fine masks back into a full-resolution canvas.
 */
import { cutSides, grownBox } from '../geometry/crop-growth.js';
import { ArgumentError } from '../errors.js';
import { type DropPolicy, DROP_POLICIES, paddingForSize } from '../geometry/boxes.js';
import { cropResize } from '../geometry/crop.js';
import { fuseInto } from '../geometry/fusion.js';
import { proposeBoxes } from '../geometry/proposals.js';
import { type Box, type Mask, type Raster, assertPositiveInteger, assertRaster, binarize } from '../geometry/raster.js';
import { type ResizeMode, resize } from '../geometry/resize.js';

import { type SegmentationNetwork, outputsOf } from '../types/network.js';

/** What to output when the rough network finds nothing: `empty` (the reference) or its upsampled mask. */
export type Fallback = 'empty' | 'rough';
export const FALLBACKS: readonly Fallback[] = ['empty', 'rough'];

/**
 * Inference defaults, set from both policies and both fallbacks on polyp (paper-epoch S = 32 networks, 100 test
 * images, docs/results/polyp-unet/policies-s32): on the one image whose padded box outgrew the image the reference's
 * drop left an empty mask (DSC 0), `clip` gave 0.625 and the rough fallback 0.622; all other images were the same.
 * Training and `sts reproduce` keep the reference's behaviour, which the paper's numbers come from.
 */
export const DEFAULT_DROP_POLICY: DropPolicy = 'clip';
export const DEFAULT_FALLBACK: Fallback = 'rough';

export interface SegmentThenSegmentOptions {
  /** S: the input size of both networks. */
  readonly size: number;
  readonly rough: SegmentationNetwork;
  readonly fine: SegmentationNetwork;
  readonly dropPolicy?: DropPolicy;
  readonly fallback?: Fallback;
  /** Every resize (image, crops, masks): `nearest` as the reference, or `bilinear`. */
  readonly resizeMode?: ResizeMode;
  /** Context around each box; default S // 8, as the reference. */
  readonly padding?: number;
  /**
   * Rounds of crop growth (geometry/crop-growth.ts): a crop whose fine mask reaches its border where the image goes
   * on is grown on those sides and segmented again, up to this many times. Default 0 (the reference).
   */
  readonly growCrops?: number;
  readonly signal?: AbortSignal;
}

export interface SegmentThenSegmentResult {
  /** Full-resolution binary mask (0/1). */
  readonly mask: Mask<Uint8Array>;
  /** The crop boxes, in the order their crops were segmented. */
  readonly boxes: Box[];
  /** The rough network's S x S probability map. */
  readonly rough: Mask<Float32Array>;
  /** Whether the output is the rough fallback because no box survived. */
  readonly usedFallback: boolean;
  /**
   * The fine network's S x S maps, one per box; and its object cores, for an instance network, or its centre flows
   * (S x S x 2, dy and dx as 0..1), for a flow network.
   */
  readonly fine: { readonly maps: readonly Float32Array[]; readonly cores?: readonly Float32Array[]; readonly flows?: readonly Float32Array[] };
}

export async function segmentThenSegment(
  image: Raster,
  options: SegmentThenSegmentOptions,
): Promise<SegmentThenSegmentResult> {
  assertRaster(image, 'image', { finite: true });
  const { size, rough, fine, signal } = options;
  assertPositiveInteger(size, 'size');
  if (typeof rough !== 'function') throw new ArgumentError('rough', 'must be an async function (inputs) => maps');
  if (typeof fine !== 'function') throw new ArgumentError('fine', 'must be an async function (inputs) => maps');
  const dropPolicy = options.dropPolicy ?? DEFAULT_DROP_POLICY;
  if (!DROP_POLICIES.includes(dropPolicy)) {
    throw new ArgumentError('dropPolicy', `unknown policy '${String(dropPolicy)}'; use ${DROP_POLICIES.join(' or ')}`);
  }
  const fallback = options.fallback ?? DEFAULT_FALLBACK;
  if (!FALLBACKS.includes(fallback)) {
    throw new ArgumentError('fallback', `unknown fallback '${String(fallback)}'; use ${FALLBACKS.join(' or ')}`);
  }
  const mode = options.resizeMode ?? 'nearest';
  const padding = options.padding ?? paddingForSize(size);

  signal?.throwIfAborted();
  const downscaled = toFloat32(resize(image, size, size, mode));
  const [roughMap] = (await runNetwork(rough, [downscaled], size, 'rough')).maps;
  const roughMask: Mask<Float32Array> = { width: size, height: size, channels: 1, data: roughMap };

  signal?.throwIfAborted();
  const boxes = proposeBoxes(roughMask, image, { padding, dropPolicy });
  const mask: Mask<Uint8Array> = {
    width: image.width,
    height: image.height,
    channels: 1,
    data: new Uint8Array(image.width * image.height),
  };
  if (boxes.length > 0) {
    const segment = (these: readonly Box[]) => runNetwork(fine, these.map((box) => cropResize(image, box, size, size, mode)), size, 'fine');
    const fineMaps = await segment(boxes);
    const maps = [...fineMaps.maps];
    const cores = fineMaps.cores ? [...fineMaps.cores] : undefined;
    const flows = fineMaps.flows ? [...fineMaps.flows] : undefined;
    for (let round = 0; round < (options.growCrops ?? 0); round++) {
      // Each crop cut at its border where the image goes on is replaced by a grown one, segmented again.
      const grown: { i: number; box: Box }[] = [];
      boxes.forEach((box, i) => {
        const sides = cutSides(maps[i], size, box, image);
        const bigger = sides && grownBox(box, sides, image);
        if (bigger) grown.push({ i, box: bigger });
      });
      if (grown.length === 0) break;
      signal?.throwIfAborted();
      const again = await segment(grown.map((g) => g.box));
      grown.forEach(({ i, box }, k) => {
        boxes[i] = box;
        maps[i] = again.maps[k];
        if (cores && again.cores) cores[i] = again.cores[k];
        if (flows && again.flows) flows[i] = again.flows[k];
      });
    }
    boxes.forEach((box, i) => fuseInto(mask, maps[i], size, box, { mode }));
    return { mask, boxes, rough: roughMask, usedFallback: false, fine: { maps, ...(cores ? { cores } : {}), ...(flows ? { flows } : {}) } };
  }
  if (fallback === 'rough') {
    return { mask: upsampleRough(roughMask, image.width, image.height, mode), boxes, rough: roughMask, usedFallback: true, fine: { maps: [] } };
  }
  return { mask, boxes, rough: roughMask, usedFallback: false, fine: { maps: [] } };
}

/** The baseline's output: the rough map resized to the image (nearest, as the reference) and thresholded >= 0.5. */
export function upsampleRough(rough: Mask, width: number, height: number, mode: ResizeMode = 'nearest'): Mask<Uint8Array> {
  return binarize(resize(rough, width, height, mode) as Mask, 0.5);
}

async function runNetwork(
  network: SegmentationNetwork,
  inputs: Raster<Float32Array>[],
  size: number,
  name: string,
): Promise<{ maps: Float32Array[]; cores?: Float32Array[]; flows?: Float32Array[] }> {
  const outputs = await network(inputs);
  if (!Array.isArray(outputs) || outputs.length !== inputs.length) {
    throw new ArgumentError(
      name,
      `returned ${Array.isArray(outputs) ? outputs.length : typeof outputs} maps for ${inputs.length} inputs; it must return one ${size} x ${size} map per input`,
    );
  }
  // Algorithm 1 fuses foregrounds: an instance network's cores (every second value) are for its objects, not here.
  const k = outputsOf(network);
  const maps = outputs.map((o, i) => {
    if (o == null || o.length !== size * size * k) {
      throw new ArgumentError(`${name} output ${i}`, `has ${o?.length} values; a ${size} x ${size} map${k > 1 ? ` of ${k} channels` : ''} has ${size * size * k}`);
    }
    const map = k === 1 ? (o instanceof Float32Array ? o : Float32Array.from(o)) : Float32Array.from({ length: size * size }, (_, j) => o[j * k]);
    assertRaster({ width: size, height: size, channels: 1, data: map }, `${name} output ${i}`, { finite: true });
    return map;
  });
  if (k === 1) return { maps };
  if (k === 3) return { maps, flows: outputs.map((o) => Float32Array.from({ length: size * size * 2 }, (_, j) => o[Math.floor(j / 2) * 3 + 1 + (j % 2)])) };
  return { maps, cores: outputs.map((o) => Float32Array.from({ length: size * size }, (_, j) => o[j * 2 + 1])) };
}

function toFloat32(r: Raster): Raster<Float32Array> {
  return r.data instanceof Float32Array ? (r as Raster<Float32Array>) : { ...r, data: Float32Array.from(r.data) };
}
