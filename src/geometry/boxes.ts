/**
 * Turning a component's bounding box into the crop the fine network sees: squared to its long side, padded with
 * context on every side and moved inside the image, exactly as the reference's `expand_bbox`; and the training
 * jitter the reference applies to raw boxes.
 */
import { ArgumentError } from '../errors.js';
import type { Rng } from '../random.js';
import { type Box, type Size, assertPositiveInteger } from './raster.js';

/**
 * What to do with a box that cannot fit: `reference` drops it, as the reference does (a padded square larger
 * than the image ends with a negative corner; such an object, e.g. a large polyp, gets no fine prediction at
 * all); `clip` keeps it, clipped to the image (no longer square).
 */
export type DropPolicy = 'reference' | 'clip';

export const DROP_POLICIES: readonly DropPolicy[] = ['reference', 'clip'];

/** Boxes narrower or shorter than this are dropped under every policy, as in the reference. */
export const MIN_BOX_SIDE = 5;

/** The reference's context padding for input size S: S // 8 pixels of the full-resolution image. */
export function paddingForSize(size: number): number {
  assertPositiveInteger(size, 'size');
  return Math.floor(size / 8);
}

/**
 * Squares `box` to its long side (centred; the odd pixel goes right/bottom), pads it by `padding` on every side,
 * clamps the corner to >= 0 and then shifts the box back inside `image`. Returns null when `policy` drops it.
 */
export function expandBox(box: Box, image: Size, padding: number, policy: DropPolicy = 'reference'): Box | null {
  return keepOrDrop(squareAndPad(box, image, padding), image, policy);
}

/** The reference's geometry without the drop decision: the box may end with a negative corner. */
export function squareAndPad(box: Box, image: Size, padding: number): Box {
  if (!Number.isInteger(padding) || padding < 0) {
    throw new ArgumentError('padding', `must be a non-negative integer, got ${String(padding)}`);
  }
  let { left: l, top: t, width: w, height: h } = box;
  if (w < h) {
    l -= Math.floor((h - w) / 2);
    w = h;
  } else if (h < w) {
    t -= Math.floor((w - h) / 2);
    h = w;
  }
  w += 2 * padding;
  h += 2 * padding;
  l = Math.max(0, l - padding);
  t = Math.max(0, t - padding);
  if (l + w > image.width) l -= l + w - image.width;
  if (t + h > image.height) t -= t + h - image.height;
  return { left: l, top: t, width: w, height: h };
}

function keepOrDrop(b: Box, image: Size, policy: DropPolicy): Box | null {
  let { left: l, top: t, width: w, height: h } = b;
  if (policy === 'clip') {
    // After the shift a box only has a negative corner when it is wider (taller) than the image.
    if (l < 0) {
      l = 0;
      w = image.width;
    }
    if (t < 0) {
      t = 0;
      h = image.height;
    }
  } else if (policy !== 'reference') {
    throw new ArgumentError('dropPolicy', `unknown policy '${String(policy)}'; use ${DROP_POLICIES.join(' or ')}`);
  }
  if (l < 0 || t < 0 || w < MIN_BOX_SIDE || h < MIN_BOX_SIDE) return null;
  return { left: l, top: t, width: w, height: h };
}

/**
 * Training-time box jitter: independent uniform integers in [-amount, amount] added to left, top, width and height
 * of the raw component box (before squaring), in that order, as the reference does with amount 16.
 */
export function jitterBox(box: Box, rng: Rng, amount = 16): Box {
  if (!Number.isInteger(amount) || amount < 0) {
    throw new ArgumentError('amount', `must be a non-negative integer, got ${String(amount)}`);
  }
  return {
    left: box.left + rng.int(-amount, amount),
    top: box.top + rng.int(-amount, amount),
    width: box.width + rng.int(-amount, amount),
    height: box.height + rng.int(-amount, amount),
  };
}

/**
 * The side of the windows a box longer than `maxCrop` is cut into, each resized to the network's S x S: S itself
 * (full resolution) unless `maxCrop` is smaller, when the windows are `maxCrop` wide and upsampled, so that small
 * objects in dense clusters reach the fine network as enlarged as a lone object's crop does. One rule for training
 * (train/sampler.ts) and inference (pipeline/streaming-sts.ts), so that a network sees at inference the scale it
 * learned.
 */
export function windowSide(maxCrop: number, S: number): number {
  return Math.min(maxCrop, S);
}

/** How `windowSide`'s rule reads in a log line, the same words for training and evaluation. */
export function describeWindows(maxCrop: number, S: number): string {
  const W = windowSide(maxCrop, S);
  return `boxes over ${maxCrop} px as ${W} x ${W} windows${maxCrop < S ? ` enlarged to ${S} x ${S}` : ''}`;
}
