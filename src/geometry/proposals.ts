/**
 * From masks to crop boxes: the reference's `get_bboxes` (one expanded box per 8-connected component), and the
 * inference-time proposals from a rough S x S probability map, found without upsampling the map.
 */
import type { Rng } from '../random.js';
import { type DropPolicy, expandBox, jitterBox } from './boxes.js';
import { connectedComponents } from './components.js';
import { type Box, type Mask, type Size, assertMask, assertPositiveInteger } from './raster.js';
import { nearestCoverageStarts, resizeNearest } from './resize.js';

export interface BoxOptions {
  /** Context added on every side, in pixels of the mask (the reference: S // 8). */
  readonly padding: number;
  readonly dropPolicy?: DropPolicy;
  /** Training only: jitter raw boxes by uniform integers in [-jitter.amount, jitter.amount]. */
  readonly jitter?: { readonly rng: Rng; readonly amount?: number };
  /** Foreground is `value >= threshold`; default 0.5. */
  readonly threshold?: number;
}

/** One expanded box per 8-connected component of `mask`, in OpenCV's label order; dropped boxes left out. */
export function boxesOfMask(mask: Mask, options: BoxOptions): Box[] {
  const components = connectedComponents(mask, { threshold: options.threshold ?? 0.5 });
  return expandAll(components.boxes, mask, options);
}

function expandAll(raw: Box[], image: Size, options: BoxOptions): Box[] {
  const out: Box[] = [];
  for (const box of raw) {
    const jittered = options.jitter ? jitterBox(box, options.jitter.rng, options.jitter.amount) : box;
    const expanded = expandBox(jittered, image, options.padding, options.dropPolicy ?? 'reference');
    if (expanded) out.push(expanded);
  }
  return out;
}

/**
 * Full-resolution crop boxes from the rough network's probability map (any size, typically S x S) for an image of
 * `image` size: the boxes the reference finds by upsampling the map to the image size (nearest), thresholding at
 * >= 0.5 and labelling components at full resolution.
 *
 * When the image is at least as large as the map in both dimensions, every map pixel becomes a non-empty block of
 * image pixels and adjacent pixels become adjacent blocks, so components and their boxes are the map's, scaled
 * through the nearest-neighbour coverage: we label the small map and scale, at a tiny fraction of the cost. When
 * the image is smaller than the map in a dimension, upsampling is really a downsampling that can drop or merge
 * components, and we follow the reference literally.
 */
export function proposeBoxes(rough: Mask, image: Size, options: BoxOptions): Box[] {
  assertMask(rough, 'rough', { finite: true });
  assertPositiveInteger(image.width, 'image.width');
  assertPositiveInteger(image.height, 'image.height');
  const threshold = options.threshold ?? 0.5;
  if (image.width < rough.width || image.height < rough.height) {
    const upsampled = resizeNearest(rough, image.width, image.height) as Mask;
    return boxesOfMask(upsampled, options);
  }
  const rowStart = nearestCoverageStarts(rough.height, image.height);
  const colStart = nearestCoverageStarts(rough.width, image.width);
  const components = connectedComponents(rough, { threshold, orderGrid: { rowStart, colStart } });
  const scaled = components.boxes.map((b) => ({
    left: colStart[b.left],
    top: rowStart[b.top],
    width: colStart[b.left + b.width] - colStart[b.left],
    height: rowStart[b.top + b.height] - rowStart[b.top],
  }));
  return expandAll(scaled, image, options);
}
