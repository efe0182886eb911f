/** Loading the gzipped JSON fixtures in test/fixtures (copied from ../shared/golden and made by scripts/). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Box, Mask } from '../../src/geometry/raster.js';

const fixturesDir = new URL('../../../test/fixtures/', import.meta.url);

/** The small nuclei pair the CLI, queue, ONNX and web tests run (`web-models/cells-rough`, `cells-fine`). */
export const FIXTURE_MODELS = fileURLToPath(new URL('web-models', fixturesDir));

export function loadFixture<T>(name: string): T {
  return JSON.parse(gunzipSync(readFileSync(new URL(name, fixturesDir))).toString('utf8')) as T;
}

/** Foreground pixels from the goldens' run-length list [start, length, start, length, ...] (row-major). */
export function decodeRle(rle: number[], height: number, width: number): Mask<Uint8Array> {
  const data = new Uint8Array(height * width);
  for (let i = 0; i < rle.length; i += 2) data.fill(1, rle[i], rle[i] + rle[i + 1]);
  return { width, height, channels: 1, data };
}

export function encodeRle(data: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < data.length) {
    if (data[i] > 0.5) {
      const start = i;
      while (i < data.length && data[i] > 0.5) i++;
      out.push(start, i - start);
    } else i++;
  }
  return out;
}

/** Goldens write boxes as [left, top, width, height]. */
export function boxFromArray([left, top, width, height]: number[]): Box {
  return { left, top, width, height };
}

export function boxToArray(b: Box): number[] {
  return [b.left, b.top, b.width, b.height];
}
