/**
 * A large image as a pixel source that is asked for windows at a pyramid level, never for the whole image (the shape
 * of geotiff.js's and Viv's sources). The streaming pipeline takes this; each medium implements it: image files
 * through libvips in Node (io/file-image-source.ts), a user's file through geotiff.js in the browser
 * (web/src/source/), a decoded raster anywhere (io/raster-image-source.ts).
 */
import type { Box, Raster } from '../geometry/raster.js';

export interface PyramidLevel {
  readonly width: number;
  readonly height: number;
  /** How libvips opens this level: a TIFF page or an OME sub-IFD; undefined for the full-resolution image. */
  readonly page?: number;
  readonly subifd?: number;
}

export interface ImageSource {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** Level 0 is the full resolution; further levels are smaller copies of it, largest first. */
  readonly levels: readonly PyramidLevel[];
  /** Pixel size in micrometres, when the file records a resolution. */
  readonly pixelSizeUm?: number;
  /** The pixels of `box` (in the level's pixels); parts outside the image read as 0. */
  read(box: Box, level?: number): Promise<Raster<Uint8Array>>;
  /** Removes any temporary copy. */
  close(): Promise<void>;
}

/**
 * Which of a TIFF's further images (pages of its chain, or OME sub-IFDs) are levels of its pyramid: reduced copies
 * of the full-resolution image, with its aspect ratio within a pixel; not a label, a macro photo or a thumbnail of
 * another shape. Returned largest first (after level 0, which is not among the candidates). Node's reader and the
 * browser's apply this one rule, so both see the same levels of the same file.
 */
export function pyramidLevelsOf<T extends { readonly width: number; readonly height: number }>(width: number, height: number, candidates: readonly T[]): T[] {
  return candidates
    .filter((c) => c.width > 0 && c.height > 0 && c.width < width && Math.abs(c.width / width - c.height / height) * Math.max(width, height) <= 2)
    .sort((a, b) => b.width - a.width);
}

/**
 * The pixel size in micrometres that a file's resolution gives (pixels per inch), as `sts predict` reads it;
 * undefined when there is none or it is 72 dpi, the value writers put in when they know nothing.
 */
export function pixelSizeOfDensity(dpi: number | undefined): number | undefined {
  return dpi && dpi > 0 && dpi !== 72 ? 25_400 / dpi : undefined;
}
