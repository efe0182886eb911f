/**
 * An optional cap on image size (--max-pixels): an image above it is refused by name from its header alone, before
 * any pixel is decoded or any temporary copy is made. For workers that take images from others (a queue), where one
 * huge or crafted image should not hold a machine for hours.
 */
import { StsError } from '../errors.js';
import { readImageInfo } from './image-files.js';

/** An image above the cap; the same file is refused again next time, so a queue does not retry it. */
export class PixelCapError extends StsError {
  override name = 'PixelCapError';
}

/** Throws PixelCapError when the image at `path` has more than `maxPixels` pixels (width x height of its header). */
export async function checkPixelCap(path: string, maxPixels: number): Promise<void> {
  const { width, height } = await readImageInfo(path);
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new PixelCapError(
      `${path}: ${width} x ${height} = ${pixels.toLocaleString('en-US')} pixels, above --max-pixels ${maxPixels.toLocaleString('en-US')}; ` +
        'refused before reading its pixels: raise --max-pixels (or leave it out) to segment it',
    );
  }
}
