/**
 * Rows of an image source downscaled by PyTorch's `nearest` rule, read band by band: the rough pass of a slide
 * needs the image at a fraction of its size, and holding even that whole can cost gigabytes. Reads come from the
 * smallest pyramid level that still has the target's resolution, in contiguous chunks of bounded size.
 */
import type { ImageSource } from '../types/image-source.js';
import type { Raster } from '../geometry/raster.js';
import { nearestSourceIndices } from '../geometry/resize.js';

export interface DownscaleReader {
  readonly width: number;
  readonly height: number;
  /** Which pyramid level the pixels come from. */
  readonly level: number;
  /** Rows [top, top + height) of the downscaled image, all columns. */
  readRows(top: number, height: number): Promise<Raster<Uint8Array>>;
}

/**
 * `exact` reads level 0 whatever the pyramid holds, which makes the result equal to `resize(image, width, height,
 * 'nearest')` (the paper's single S x S pass); otherwise the smallest level at least `width` x `height` is used.
 */
export function downscaleReader(
  source: ImageSource,
  width: number,
  height: number,
  { exact = false, maxChunkBytes = 64 * 1024 * 1024 }: { exact?: boolean; maxChunkBytes?: number } = {},
): DownscaleReader {
  let level = 0;
  if (!exact) {
    source.levels.forEach((l, i) => {
      if (l.width >= width && l.height >= height && l.width < source.levels[level].width) level = i;
    });
  }
  const l = source.levels[level];
  const rows = nearestSourceIndices(l.height, height);
  const cols = nearestSourceIndices(l.width, width);
  const c = source.channels;
  const maxChunkRows = Math.max(1, Math.floor(maxChunkBytes / (l.width * c)));
  return {
    width,
    height,
    level,
    async readRows(top, count) {
      const out = new Uint8Array(width * count * c);
      let y = 0;
      while (y < count) {
        // One chunk: consecutive needed source rows, as many as fit in the byte budget.
        const first = rows[top + y];
        let last = y;
        while (last + 1 < count && rows[top + last + 1] - first < maxChunkRows) last++;
        const chunk = await source.read({ left: 0, top: first, width: l.width, height: rows[top + last] - first + 1 }, level);
        for (let k = y; k <= last; k++) {
          const src = (rows[top + k] - first) * l.width * c;
          let o = k * width * c;
          for (let x = 0; x < width; x++, o += c) {
            const s = src + cols[x] * c;
            for (let ch = 0; ch < c; ch++) out[o + ch] = chunk.data[s + ch];
          }
        }
        y = last + 1;
      }
      return { width, height: count, channels: c, data: out };
    },
  };
}
