/**
 * The viewer's own worker: the image's pixels tile by tile, read from the slide's own pyramid (the smallest level
 * that still has the tile's resolution), so panning and zooming a 40,000 x 40,000 slide decodes only what is on
 * screen, off the page's thread and beside the segmentation worker (which is busy with networks). A file whose
 * smallest level is still large (no pyramid, or a decoded PNG) gets a small copy of the whole image, made once by a
 * streamed downscale, for the far views; until it is ready those tiles are drawn as a placeholder.
 */
import { type ImageSource, OVERLAY_SIDE, type Raster, downscaleReader, overlaySize, rasterImageSource, resizeNearest } from 'segment-then-segment/core';
import { openImage } from '../source/open-image.js';
import type { TileRequest, ViewReply, ViewRequest } from './protocol.js';

const scope = self as unknown as { postMessage(message: ViewReply, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<ViewRequest>) => void) | null };
const post = (message: ViewReply, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

/** A tile may read at most this many times its own pixels from a level (4x per side); beyond, a smaller copy serves. */
const MAX_READ_FACTOR = 16;
const PLACEHOLDER = [48, 48, 48, 255] as const;

let source: ImageSource | undefined;
let overview: ImageSource | undefined;
let generation = 0;

scope.onmessage = ({ data: request }) => {
  if (request.type === 'open') {
    const mine = ++generation;
    source = undefined;
    overview = undefined;
    openImage(request.file)
      .then(async ({ source: opened }) => {
        if (mine !== generation) return;
        source = opened;
        post({ type: 'opened', width: opened.width, height: opened.height });
        const smallest = opened.levels[opened.levels.length - 1];
        if (Math.max(smallest.width, smallest.height) > 2 * OVERLAY_SIDE) {
          const copy = await overviewOf(opened);
          if (mine !== generation) return;
          overview = copy;
          post({ type: 'overview' });
        }
      })
      .catch((error: Error) => post({ type: 'error', message: error.message }));
    return;
  }
  imageTile(request)
    .catch((error: Error) => {
      console.error(error);
      return placeholder(request.width, request.height);
    })
    .then((rgba) => post({ type: 'tile', id: request.id, rgba }, [rgba.buffer]));
};

async function imageTile({ region, width, height }: TileRequest): Promise<Uint8ClampedArray> {
  const s = source;
  if (!s) return placeholder(width, height);
  // The smallest level with at least the tile's resolution; the overview when even that reads too much.
  const wanted = width / region.width;
  let level = 0;
  s.levels.forEach((l, i) => {
    if (l.width / s.width >= wanted * 0.999 && l.width < s.levels[level].width) level = i;
  });
  const l = s.levels[level];
  const cost = ((region.width * l.width) / s.width) * ((region.height * l.height) / s.height);
  if (cost > MAX_READ_FACTOR * width * height) {
    if (!overview) return placeholder(width, height);
    return rgbaOf(await windowAt(overview, 0, overview.width / s.width, overview.height / s.height, region, width, height));
  }
  return rgbaOf(await windowAt(s, level, l.width / s.width, l.height / s.height, region, width, height));
}

/** `region` (full-resolution pixels) read from `level` of `from` (scaled by sx, sy) and resized to the tile. */
async function windowAt(from: ImageSource, level: number, sx: number, sy: number, region: TileRequest['region'], width: number, height: number): Promise<Raster<Uint8Array>> {
  const left = Math.floor(region.left * sx);
  const top = Math.floor(region.top * sy);
  const box = {
    left,
    top,
    width: Math.max(1, Math.ceil((region.left + region.width) * sx) - left),
    height: Math.max(1, Math.ceil((region.top + region.height) * sy) - top),
  };
  const pixels = await from.read(box, level);
  return pixels.width === width && pixels.height === height ? pixels : resizeNearest(pixels, width, height);
}

/** The whole image at overlay size, read band by band through the pipeline's streamed downscale. */
async function overviewOf(from: ImageSource): Promise<ImageSource> {
  const { width, height } = overlaySize(from.width, from.height);
  const reader = downscaleReader(from, width, height);
  const data = new Uint8Array(width * height * from.channels);
  for (let top = 0; top < height; top += 128) {
    const rows = Math.min(128, height - top);
    data.set((await reader.readRows(top, rows)).data, top * width * from.channels);
  }
  return rasterImageSource({ width, height, channels: from.channels, data });
}

function rgbaOf(r: Raster<Uint8Array>): Uint8ClampedArray {
  const n = r.width * r.height;
  const out = new Uint8ClampedArray(n * 4);
  const c = r.channels;
  for (let i = 0; i < n; i++) {
    out[i * 4] = r.data[i * c];
    out[i * 4 + 1] = r.data[i * c + (c > 1 ? 1 : 0)];
    out[i * 4 + 2] = r.data[i * c + (c > 2 ? 2 : 0)];
    out[i * 4 + 3] = 255;
  }
  return out;
}

function placeholder(width: number, height: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) out.set(PLACEHOLDER, i * 4);
  return out;
}
