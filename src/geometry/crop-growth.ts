/**
 * Crops that check themselves: a fine mask that reaches its crop's border where the image goes on has seen only part
 * of its object (the rough pass underestimated it: a large polyp whose lower slice alone was found). Such a crop is
 * grown on the sides it was cut and segmented again, a bounded number of rounds, instead of pasting a cut-off object.
 * TotalSegmentator's fixed-margin crops cut organs flat for the same reason (its issue #220).
 */
import type { Box } from './raster.js';

interface Size {
  readonly width: number;
  readonly height: number;
}

export interface CutSides {
  readonly left: boolean;
  readonly top: boolean;
  readonly right: boolean;
  readonly bottom: boolean;
}

/**
 * The sides of `box` where the `size` x `size` map (values >= `threshold` are foreground) has at least `minShare`
 * of its border row or column in the foreground and the image continues past that side; undefined when none.
 */
export function cutSides(map: ArrayLike<number>, size: number, box: Box, image: Size, { threshold = 0.5, minShare = 0.1 } = {}): CutSides | undefined {
  const need = Math.max(1, Math.ceil(minShare * size));
  let left = 0;
  let right = 0;
  let top = 0;
  let bottom = 0;
  for (let i = 0; i < size; i++) {
    if (map[i * size] >= threshold) left++;
    if (map[i * size + size - 1] >= threshold) right++;
    if (map[i] >= threshold) top++;
    if (map[(size - 1) * size + i] >= threshold) bottom++;
  }
  const sides = {
    left: left >= need && box.left > 0,
    top: top >= need && box.top > 0,
    right: right >= need && box.left + box.width < image.width,
    bottom: bottom >= need && box.top + box.height < image.height,
  };
  return sides.left || sides.top || sides.right || sides.bottom ? sides : undefined;
}

/**
 * `box` grown by `factor` of its side on each cut side, squared to its long side (centred across the growth), and
 * kept inside the image (clipped where it is larger). Undefined when it cannot grow (it already spans the image).
 */
export function grownBox(box: Box, sides: CutSides, image: Size, factor = 0.5): Box | undefined {
  const g = Math.max(1, Math.ceil(factor * Math.max(box.width, box.height)));
  let l = box.left - (sides.left ? g : 0);
  let t = box.top - (sides.top ? g : 0);
  let r = box.left + box.width + (sides.right ? g : 0);
  let b = box.top + box.height + (sides.bottom ? g : 0);
  // Square, growing the short side evenly on both ends.
  const side = Math.max(r - l, b - t);
  l -= Math.floor((side - (r - l)) / 2);
  r = l + side;
  t -= Math.floor((side - (b - t)) / 2);
  b = t + side;
  // Inside the image: shifted back, then clipped where the square is larger than the image.
  if (l < 0) (r -= l), (l = 0);
  if (t < 0) (b -= t), (t = 0);
  if (r > image.width) (l = Math.max(0, l - (r - image.width))), (r = image.width);
  if (b > image.height) (t = Math.max(0, t - (b - image.height))), (b = image.height);
  const grown = { left: l, top: t, width: r - l, height: b - t };
  if (grown.left === box.left && grown.top === box.top && grown.width === box.width && grown.height === box.height) return undefined;
  return grown;
}
