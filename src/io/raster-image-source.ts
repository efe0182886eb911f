/**
 * An `ImageSource` over an image already decoded into memory (a small PNG or JPEG in Node, any decoded image in the
 * browser), and the windowing rule every source shares: parts of a window outside the image read as 0.
 * Platform-free: the page runs the streaming pipeline on it exactly as `sts predict` does on a file.
 */
import type { Box, Raster } from '../geometry/raster.js';
import type { ImageSource } from '../types/image-source.js';

/**
 * The window `box` of a `width` x `height` image with `channels` channels, given a reader of the part of it that
 * lies inside the image; zeros around that part.
 */
export async function windowOf(
  box: Box,
  width: number,
  height: number,
  channels: number,
  readInside: (inside: Box) => Promise<Raster<Uint8Array>>,
): Promise<Raster<Uint8Array>> {
  const inside = clip(box, width, height);
  if (!inside) return zeros(box, channels);
  const window = await readInside(inside);
  return inside.width === box.width && inside.height === box.height ? window : pad(window, inside, box);
}

export function rasterImageSource(image: Raster<Uint8Array>, { path = 'image', pixelSizeUm }: { path?: string; pixelSizeUm?: number } = {}): ImageSource {
  const whole = { left: 0, top: 0, width: image.width, height: image.height };
  return {
    path,
    width: image.width,
    height: image.height,
    channels: image.channels as 1 | 3,
    levels: [{ width: image.width, height: image.height }],
    pixelSizeUm,
    read: (box) => windowOf(box, image.width, image.height, image.channels, async (inside) => pad(image, whole, inside)),
    close: async () => {},
  };
}

function clip(box: Box, width: number, height: number): Box | undefined {
  const left = Math.max(0, box.left);
  const top = Math.max(0, box.top);
  const right = Math.min(width, box.left + box.width);
  const bottom = Math.min(height, box.top + box.height);
  return right > left && bottom > top ? { left, top, width: right - left, height: bottom - top } : undefined;
}

function zeros(box: Box, channels: number): Raster<Uint8Array> {
  return { width: box.width, height: box.height, channels, data: new Uint8Array(box.width * box.height * channels) };
}

/** The part of `box` that `from` (placed at `at` in image pixels) covers, copied into a zero raster of `box`'s size. */
function pad(from: Raster<Uint8Array>, at: Box, box: Box): Raster<Uint8Array> {
  const c = from.channels;
  const out = zeros(box, c);
  const x0 = Math.max(box.left, at.left);
  const x1 = Math.min(box.left + box.width, at.left + at.width);
  for (let y = Math.max(box.top, at.top); y < Math.min(box.top + box.height, at.top + at.height); y++) {
    if (x1 <= x0) break;
    const src = ((y - at.top) * from.width + (x0 - at.left)) * c;
    out.data.set(from.data.subarray(src, src + (x1 - x0) * c), ((y - box.top) * box.width + (x0 - box.left)) * c);
  }
  return out;
}
