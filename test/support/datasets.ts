/** Tiny datasets of every layout, generated into a temporary folder. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeNrrd } from '../../src/io/nrrd.js';
import { encodeNifti } from './nifti-writer.js';

export const tempDir = (prefix = 'sts-data-'): string => mkdtempSync(join(tmpdir(), prefix));

/** A gray gradient image and a mask with a filled rectangle, as 8-bit raw arrays. */
export function pattern(width: number, height: number, rect: [number, number, number, number]) {
  const image = new Uint8Array(width * height * 3);
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      image.set([(x * 17) % 256, (y * 29) % 256, (x * y) % 256], i * 3);
      const [l, t, w, h] = rect;
      if (x >= l && x < l + w && y >= t && y < t + h) mask[i] = 1;
    }
  }
  return { image, mask };
}

export async function writeRaw(path: string, data: Uint8Array | Uint16Array, width: number, height: number, channels: 1 | 3 | 4) {
  mkdirSync(join(path, '..'), { recursive: true });
  const img = sharp(data, { raw: { width, height, channels } });
  if (data instanceof Uint16Array) await img.toColourspace(channels === 1 ? 'grey16' : 'rgb16').png().toFile(path);
  else if (/\.jpe?g$/.test(path)) await img.jpeg({ quality: 90 }).toFile(path);
  else await img.png().toFile(path);
}

const scale255 = (m: Uint8Array) => m.map((v) => v * 255);

/** images/ + masks/ with PNG masks (0/255), optionally JPEG (Kvasir). */
export async function makeImagesMasks(root: string, ids: string[], { jpeg = false, w = 24, h = 20 } = {}) {
  for (const [k, id] of ids.entries()) {
    const { image, mask } = pattern(w, h, [2 + k, 3, 8, 6]);
    await writeRaw(join(root, 'images', `${id}.${jpeg ? 'jpg' : 'png'}`), image, w, h, 3);
    await writeRaw(join(root, 'masks', `${id}.${jpeg ? 'jpg' : 'png'}`), scale255(mask), w, h, 1);
  }
}

/** DSB2018 stage1_train: RGBA image, one PNG per nucleus; returns the expected union per id. */
export async function makeStage1(root: string, ids: string[], w = 20, h = 16) {
  const unions = new Map<string, Uint8Array>();
  for (const [k, id] of ids.entries()) {
    const rgba = new Uint8Array(w * h * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 7 + k) % 256));
    await writeRaw(join(root, id, 'images', `${id}.png`), rgba, w, h, 4);
    const union = new Uint8Array(w * h);
    const rects: [number, number, number, number][] = [[1, 1, 4, 3], [3, 2, 4, 4], [12, 8, 5, 5 + k]];
    for (const [j, r] of rects.entries()) {
      const { mask } = pattern(w, h, r);
      mask.forEach((v, i) => (union[i] |= v));
      await writeRaw(join(root, id, 'masks', `nucleus${j}.png`), scale255(mask), w, h, 1);
    }
    unions.set(id, union);
  }
  return unions;
}

/** AVT-like patients: `<p>/<p>.seg.nrrd` labels and `<p>/<p>.nrrd` or `.nii.gz` CT in HU. */
export function makeAvt(root: string, patients: string[], { w = 10, h = 8, d = 5, nifti = [] as string[] } = {}) {
  const volumes = new Map<string, { ct: Int16Array; labels: Uint8Array }>();
  for (const [k, p] of patients.entries()) {
    const ct = Int16Array.from({ length: w * h * d }, (_, i) => (i % 7) * 100 - 100);
    const labels = new Uint8Array(w * h * d);
    // Foreground on slices 1..3 only; slices 0 and 4 are empty and left out by default.
    for (let z = 1; z <= 3; z++) for (let y = 2; y < 5; y++) for (let x = 1 + k; x < 6; x++) labels[z * w * h + y * w + x] = 1;
    mkdirSync(join(root, p), { recursive: true });
    const vol = { width: w, height: h, depth: d, spacing: [0.7, 0.7, 3] as [number, number, number] };
    writeFileSync(
      join(root, p, `${p}.seg.nrrd`),
      encodeNrrd({ ...vol, data: labels }, { keyValues: { Segment0_ID: 'Segment_1', Segment0_Name: 'aorta', Segment0_Layer: '0', Segment0_LabelValue: '1' } }),
    );
    if (nifti.includes(p)) writeFileSync(join(root, p, `${p}.nii.gz`), encodeNifti({ ...vol, data: ct, gzip: true }));
    else writeFileSync(join(root, p, `${p}.nrrd`), encodeNrrd({ ...vol, data: ct }));
    volumes.set(p, { ct, labels });
  }
  return volumes;
}
