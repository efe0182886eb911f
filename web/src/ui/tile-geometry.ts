/**
 * Which part of the image a viewer tile shows: OpenSeadragon's pyramid (level L is the image at 2^(L - maxLevel),
 * cut into square tiles) mapped to full-resolution pixels. Pure, so that it is tested without a browser.
 */
import type { Box } from 'segment-then-segment/core';

export const TILE_SIZE = 256;

/** What a tile shows: `region` of the full-resolution image drawn as `width` x `height` pixels. */
export interface TileGeometry {
  readonly region: Box;
  readonly width: number;
  readonly height: number;
}

/**
 * The full-resolution region and pixel size of tile (x, y) of level `level` of a `width` x `height` image whose
 * layer is `supersample` times finer than the image (levels beyond full resolution, for thin outlines up close).
 */
export function tileGeometry(width: number, height: number, level: number, x: number, y: number, tileSize = TILE_SIZE, supersample = 1): TileGeometry {
  const maxLevel = Math.ceil(Math.log2(Math.max(width, height) * supersample));
  // Image pixels per tile pixel: a power of two, below 1 on the levels beyond full resolution.
  const step = 2 ** (maxLevel - level) / supersample;
  const left = x * tileSize * step;
  const top = y * tileSize * step;
  const w = Math.max(1, Math.min(tileSize * step, width - left));
  const h = Math.max(1, Math.min(tileSize * step, height - top));
  return { region: { left, top, width: w, height: h }, width: Math.max(1, Math.round(w / step)), height: Math.max(1, Math.round(h / step)) };
}

