/**
 * One viewer tile of a result's mask as RGBA: the objects tinted and outlined, rendered from the fine results by
 * the library's `renderDownscaled` (the full-resolution mask's own pixels, sampled), so a tile costs its size and
 * the boxes it meets, at any zoom. Outlines are found with one pixel of margin, so that tile edges draw none.
 */
import { type Box, type FineResults, renderDownscaled } from 'segment-then-segment/core';

const FILL = [60, 220, 90, 80] as const;
const OUTLINE = [90, 255, 120, 255] as const;

export function overlayTile(fine: FineResults | undefined, region: Box, width: number, height: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(width * height * 4);
  if (!fine || fine.results.length === 0) return rgba;
  // One output pixel of margin on every side, in full-resolution pixels (at least one).
  const mx = Math.max(1, Math.round(region.width / width));
  const my = Math.max(1, Math.round(region.height / height));
  const W = width + 2;
  const mask = renderDownscaled(fine, { left: region.left - mx, top: region.top - my, width: region.width + 2 * mx, height: region.height + 2 * my }, W, height + 2).data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y + 1) * W + x + 1;
      if (!mask[i]) continue;
      const edge = !mask[i - 1] || !mask[i + 1] || !mask[i - W] || !mask[i + W];
      rgba.set(edge ? OUTLINE : FILL, (y * width + x) * 4);
    }
  }
  return rgba;
}
