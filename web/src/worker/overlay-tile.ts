/**
 * One viewer tile of a result's mask as RGBA: the objects tinted and outlined, rendered from the fine results by
 * the library's `renderDownscaled` (the full-resolution mask's own pixels, sampled), so a tile costs its size and
 * the boxes it meets, at any zoom. Outlines are two tile pixels wide (the viewer draws a tile at half to full size,
 * without smoothing, which would drop one-pixel lines) and are found with a margin, so tile edges draw none.
 */
import { type Box, type FineResults, renderDownscaled } from 'segment-then-segment/core';

const FILL = [60, 220, 90, 80] as const;
const OUTLINE = [90, 255, 120, 255] as const;
const LINE = 2;

export function overlayTile(fine: FineResults | undefined, region: Box, width: number, height: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(width * height * 4);
  if (!fine || fine.results.length === 0) return rgba;
  // A margin of whole image pixels, at least LINE tile pixels wide, on every side: the same sampling grid.
  const mx = Math.ceil((LINE * region.width) / width);
  const my = Math.ceil((LINE * region.height) / height);
  const ox = Math.round((mx * width) / region.width);
  const oy = Math.round((my * height) / region.height);
  const W = width + 2 * ox;
  const mask = renderDownscaled(fine, { left: region.left - mx, top: region.top - my, width: region.width + 2 * mx, height: region.height + 2 * my }, W, height + 2 * oy).data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y + oy) * W + x + ox;
      if (!mask[i]) continue;
      let edge = false;
      for (let d = 1; d <= LINE && !edge; d++) edge = !mask[i - d] || !mask[i + d] || !mask[i - d * W] || !mask[i + d * W];
      rgba.set(edge ? OUTLINE : FILL, (y * width + x) * 4);
    }
  }
  return rgba;
}
