/**
 * Slide-sized mosaics of real DSB2018 images for the large-image benchmarks (bench:large, bench:web-slide): held-out
 * images and their masks placed on black, shelf by shelf, written band by band as tiled pyramidal TIFFs (the image
 * and its truth, as a mask and as a per-nucleus label map from `instances/`), built once per size, seed and set of
 * images and cached.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { readImage, readMask } from '../src/io/image-files.js';
import { writeBandedTiff } from '../src/io/mask-writer.js';
import { readLabelMap, writeLabelBands } from '../src/io/label-maps.js';
import { maxLabel } from '../src/geometry/label-map.js';
import { readJsonFile } from '../src/io/json-file.js';
import { seededRng } from '../src/random.js';

export interface MosaicSource {
  /** The dataset folder with images/ and masks/. */
  readonly data: string;
  readonly cache: string;
  /** File names (in images/) that a mosaic may hold: the models' held-out images only. */
  readonly images: readonly string[];
  readonly log: (line: string) => void;
}

export interface Mosaic {
  readonly image: string;
  readonly truth: string;
  /** The per-nucleus truth: a 32-bit label map (labels.tif's format), each placed image's labels offset past the last. */
  readonly labels: string;
  readonly coverage: number;
  readonly images: number;
}

/** The held-out (test and validation) images of a split.json written by sts train. */
export async function heldOutImages(splitPath: string, hint: string): Promise<string[]> {
  const split = await readJsonFile<{ valid: string[]; test: string[] }>(splitPath, hint);
  return [...split.test, ...split.valid].map((id) => `${id}.png`);
}

export interface Placement { name: string; left: number; top: number; width: number; height: number }

/** Shelf packing with gaps of about twice an image's size on both axes: about a tenth of the area is covered. */
export async function layout(size: number, names: readonly string[], seed: number, data: string): Promise<Placement[]> {
  const rng = seededRng(seed);
  const sizes = new Map<string, { width: number; height: number }>();
  for (const n of names) {
    const m = await sharp(join(data, 'images', n)).metadata();
    sizes.set(n, { width: m.width!, height: m.height! });
  }
  const out: Placement[] = [];
  let y = rng.int(0, 200);
  let k = 0;
  while (y < size) {
    let x = rng.int(0, 400);
    let shelf = 0;
    while (true) {
      const name = names[rng.int(0, names.length - 1)];
      const s = sizes.get(name)!;
      if (x + s.width > size || y + s.height > size) break;
      out.push({ name, left: x, top: y, ...s });
      shelf = Math.max(shelf, s.height);
      x += s.width + Math.round(s.width * (1.1 + rng.int(0, 60) / 100));
      k++;
    }
    y += shelf > 0 ? shelf + Math.round(shelf * (1.1 + rng.int(0, 60) / 100)) : 500;
  }
  return out;
}

/** The mosaic and its truth as tiled pyramidal TIFFs, rendered band by band (built once, then cached). */
export async function mosaic(size: number, seed: number, { data, cache, images: held, log }: MosaicSource): Promise<Mosaic> {
  // The cache key includes the held-out images: models trained on another split must not be scored on a mosaic
  // that holds their own training images.
  const key = `${size}-${seed}-${createHash('sha1').update(held.join('\n')).digest('hex').slice(0, 8)}`;
  const image = join(cache, `mosaic-${key}.tif`);
  const truth = join(cache, `truth-${key}.tif`);
  const info = join(cache, `mosaic-${key}.json`);
  const labels = join(cache, `labels-${key}.tif`);
  const exists = (path: string) => stat(path).then(() => true, () => false);
  if (await exists(info)) {
    const cached = JSON.parse(await readFile(info, 'utf8')) as Mosaic;
    // Mosaics cached before the label maps existed get theirs now.
    if (await exists(labels)) return { ...cached, labels };
    await writeTruthLabels(labels, size, await layout(size, held, seed, data), data, log);
    return { ...cached, labels };
  }
  await mkdir(cache, { recursive: true });
  const places = await layout(size, held, seed, data);
  const started = performance.now();
  const bandHeight = 1024;
  const paste = async (top: number, rows: number, channels: 1 | 3) => {
    const band = new Uint8Array(size * rows * channels);
    for (const p of places) {
      if (p.top >= top + rows || p.top + p.height <= top) continue;
      const r = channels === 3 ? await readImage(join(data, 'images', p.name)) : await readMask(join(data, 'masks', p.name), { rule: 'nonzero' });
      for (let y = Math.max(top, p.top); y < Math.min(top + rows, p.top + p.height); y++) {
        const src = (y - p.top) * p.width * channels;
        band.set(r.data.subarray(src, src + p.width * channels), ((y - top) * size + p.left) * channels);
      }
    }
    return band;
  };
  log(`building ${size} x ${size} mosaic of ${places.length} held-out DSB2018 images in ${cache}`);
  await writeBandedTiff(image, size, size, 3, (t, r) => paste(t, r, 3), { bandHeight, pyramid: true });
  await writeBandedTiff(truth, size, size, 1, async (t, r) => (await paste(t, r, 1)).map((v) => (v ? 255 : 0)), { bandHeight, pyramid: false });
  const coverage = places.reduce((s, p) => s + p.width * p.height, 0) / (size * size);
  await writeTruthLabels(labels, size, places, data, log);
  const result = { image, truth, labels, coverage, images: places.length };
  await writeFile(info, JSON.stringify(result));
  log(`built in ${((performance.now() - started) / 1000).toFixed(0)} s; images cover ${(coverage * 100).toFixed(1)}%`);
  return result;
}


/**
 * The mosaic's per-nucleus truth from `<data>/instances/<name>` (16-bit label maps), placement by placement, each
 * one's labels shifted past the labels of the placements before it (an image placed twice gives two sets of
 * nuclei), written band by band as a 32-bit label TIFF.
 */
async function writeTruthLabels(path: string, size: number, places: readonly Placement[], data: string, log: (line: string) => void): Promise<void> {
  log(`writing the per-nucleus truth of the ${size} x ${size} mosaic: ${path}`);
  const read = (name: string) => readLabelMap(join(data, 'instances', name));
  const largest = new Map<string, number>();
  const offsets: number[] = [];
  let next = 0;
  for (const p of places) {
    if (!largest.has(p.name)) largest.set(p.name, maxLabel(await read(p.name)));
    offsets.push(next);
    next += largest.get(p.name)!;
  }
  await writeLabelBands(path, size, size, async (top, rows) => {
    const band = new Uint32Array(size * rows);
    for (const [k, p] of places.entries()) {
      if (p.top >= top + rows || p.top + p.height <= top) continue;
      const map = await read(p.name);
      if (map.width !== p.width || map.height !== p.height) throw new Error(`${p.name}: its instance map is ${map.width} x ${map.height}, the image ${p.width} x ${p.height}`);
      for (let y = Math.max(top, p.top); y < Math.min(top + rows, p.top + p.height); y++) {
        const src = (y - p.top) * p.width;
        const dst = (y - top) * size + p.left;
        for (let x = 0; x < p.width; x++) {
          const v = map.data[src + x];
          if (v !== 0) band[dst + x] = v + offsets[k];
        }
      }
    }
    return band;
  });
}
