/**
 * The rough pass over an image of any size: the image downscaled (by the training scale, or to S x S) is cut into
 * S x S tiles that overlap, the network runs on batches of tiles, and each tile's centre (its margin dropped where
 * a neighbour covers it) is written into one low-resolution 0/1 mask, so objects on a seam are seen with context
 * and come out as one component.
 */
import { ArgumentError } from '../errors.js';
import type { Mask, Raster } from '../geometry/raster.js';
import type { DownscaleReader } from './downscale-reader.js';
import type { SegmentationNetwork } from '../types/network.js';
import type { OnProgress } from '../types/progress.js';

export interface TiledRoughOptions {
  readonly size: number;
  readonly network: SegmentationNetwork;
  /** Pixels two neighbouring tiles share (default S / 4); each keeps half of it. */
  readonly overlap?: number;
  /** Tiles per network call. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: OnProgress;
  /** Also keep the probability the mask was thresholded from (one more byte per rough pixel). */
  readonly probability?: boolean;
}

export interface TiledRoughResult {
  /** The assembled rough mask (0/1) at the downscaled size. */
  readonly mask: Mask<Uint8Array>;
  /** With `probability`: the network's foreground probability, quantised to 0..255, laid out as the mask. */
  readonly probability?: Uint8Array;
  readonly tiles: number;
  /** Tiles that were one flat colour and reused an earlier answer for that colour instead of running the network. */
  readonly flatTiles: number;
}

/** Tile origins along one axis: stride S - overlap, the last one flush with the end. */
export function tileStarts(length: number, size: number, overlap: number): number[] {
  if (length <= size) return [0];
  const stride = size - overlap;
  const starts: number[] = [];
  for (let p = 0; p + size < length; p += stride) starts.push(p);
  starts.push(length - size);
  return starts;
}

export async function tiledRough(reader: DownscaleReader, o: TiledRoughOptions): Promise<TiledRoughResult> {
  const S = o.size;
  const overlap = o.overlap ?? Math.floor(S / 4);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= S) {
    throw new ArgumentError('overlap', `must be an integer in [0, ${S - 1}], got ${overlap}`);
  }
  const batchSize = o.batchSize ?? 32;
  const margin = overlap >> 1;
  const { width: W, height: H } = reader;
  const xs = tileStarts(W, S, overlap);
  const ys = tileStarts(H, S, overlap);
  const mask = new Uint8Array(W * H);
  const probability = o.probability ? new Uint8Array(W * H) : undefined;
  const total = xs.length * ys.length;
  // A flat tile (blank slide, padding) gives the same answer every time; slides are mostly such tiles.
  const flatAnswers = new Map<string, Float32Array>();
  let done = 0;
  let flatTiles = 0;

  // Tile rows are read in bands of several rows, so each source chunk is decoded about once.
  const rowsPerBand = Math.max(1, Math.ceil(512 / Math.max(1, S - overlap)));
  for (let b = 0; b < ys.length; b += rowsPerBand) {
    o.signal?.throwIfAborted();
    const bandYs = ys.slice(b, b + rowsPerBand);
    const top = bandYs[0];
    const bottom = Math.min(H, bandYs[bandYs.length - 1] + S);
    const band = await reader.readRows(top, bottom - top);
    const pending: { x: number; y: number; input: Raster<Float32Array> }[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      // Checked per network call, not per band: a band of a slide's tiles is hundreds of calls.
      o.signal?.throwIfAborted();
      const maps = await o.network(pending.map((p) => p.input));
      pending.forEach((p, i) => writeCore(p.x, p.y, maps[i]));
      pending.length = 0;
    };
    const writeCore = (x: number, y: number, map: ArrayLike<number>) => {
      // The margin is dropped on sides where another tile continues; clipped to the image for small images.
      const x0 = x === xs[0] ? 0 : x + margin;
      const x1 = x === xs[xs.length - 1] ? W : Math.min(W, x + S - margin);
      const y0 = y === ys[0] ? 0 : y + margin;
      const y1 = y === ys[ys.length - 1] ? H : Math.min(H, y + S - margin);
      for (let yy = y0; yy < y1; yy++) {
        const mrow = (yy - y) * S - x;
        const orow = yy * W;
        for (let xx = x0; xx < x1; xx++) mask[orow + xx] = map[mrow + xx] >= 0.5 ? 1 : 0;
        if (probability) for (let xx = x0; xx < x1; xx++) probability[orow + xx] = Math.round(Math.min(1, Math.max(0, map[mrow + xx])) * 255);
      }
    };
    for (const y of bandYs) {
      for (const x of xs) {
        const input = cutTile(band, x, y - top, S);
        const key = flatKey(input);
        if (key !== undefined) {
          const known = flatAnswers.get(key);
          if (known) {
            writeCore(x, y, known);
            flatTiles++;
          } else {
            const [map] = await o.network([input]);
            const answer = Float32Array.from(map);
            flatAnswers.set(key, answer);
            writeCore(x, y, answer);
          }
        } else {
          pending.push({ x, y, input });
          if (pending.length >= batchSize) await flush();
        }
        o.onProgress?.({ stage: 'rough', done: ++done, total });
      }
    }
    await flush();
  }
  return { mask: { width: W, height: H, channels: 1, data: mask }, ...(probability ? { probability } : {}), tiles: total, flatTiles };
}

/** An S x S float tile at (x, y) of `band`; what lies beyond the band (a small image) is 0, as the crop pads. */
function cutTile(band: Raster<Uint8Array>, x: number, y: number, S: number): Raster<Float32Array> {
  const c = band.channels;
  const out = new Float32Array(S * S * c);
  const w = Math.min(S, band.width - x);
  const h = Math.min(S, band.height - y);
  for (let r = 0; r < h; r++) {
    const src = ((y + r) * band.width + x) * c;
    const dst = r * S * c;
    for (let i = 0; i < w * c; i++) out[dst + i] = band.data[src + i];
  }
  return { width: S, height: S, channels: c, data: out };
}

function flatKey(t: Raster<Float32Array>): string | undefined {
  const d = t.data;
  const c = t.channels;
  for (let i = c; i < d.length; i++) if (d[i] !== d[i % c]) return undefined;
  return Array.from(d.subarray(0, c)).join(',');
}
