/**
 * A large image as a pixel source that is asked for windows at a pyramid level, never for the whole image (the shape
 * of geotiff.js's and Viv's sources). The streaming pipeline takes this; each medium implements it: image files
 * through libvips in Node (io/file-image-source.ts), a decoded raster anywhere (pipeline/raster-image-source.ts).
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
