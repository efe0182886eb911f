/**
 * Instance label map files. Read: a grey PNG or TIFF of 8, 16 or 32 bits (DSB2018's and MoNuSeg's `instances/`
 * are 16-bit PNGs); the Kaggle layout, one mask PNG per object; and, for scoring a semantic prediction as
 * instances, a binary mask as its connected components. Write: `labels.png` (16-bit) when every label fits in
 * 65,535, else `labels.tif` (32-bit, tiled, pyramidal, see label-tiff.ts), atomically; a slide's `labels.tif`
 * band by band (`writeLabelBands`).
 *
 * sharp reads a 16-bit PNG losslessly through `toColourspace('grey16')` + `raw({ depth: 'ushort' })`, and a
 * 32-bit TIFF through `toColourspace('b-w')` + `raw({ depth: 'uint' })` (any other colour space casts the
 * values); it cannot write 32-bit TIFFs nor pyramids by nearest, hence our own writer.
 */
import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { ArgumentError, StsError } from '../errors.js';
import { type LabelMap, componentLabelMap, labelForeground } from '../geometry/label-map.js';
import { writeAtomically } from './atomic-write.js';
import { DECODE_FAIL_ON, readImageInfo, readMask } from './image-files.js';
import { type LabelBandRenderer, type LabelTiffOptions, writeLabelTiffFile } from './label-tiff.js';

const unreadable = (path: string, why: string) =>
  new StsError(`${path}: cannot read this label map (${why}); give a one-channel PNG or TIFF of integer labels (0 = background), e.g. a 16-bit PNG or a 32-bit TIFF`);

/**
 * Reads a label map file: 8- and 16-bit files as Uint16Array, unsigned 32-bit as Uint32Array, signed 32-bit ones
 * as Int32Array (negative labels are refused). A grey image stored as RGB (sharp writes one-channel PNGs so, e.g.
 * `sts predict`'s masks) is read as its grey values; colour (channels that differ: a label map painted in
 * colours), floating-point and signed 8/16-bit files are refused, naming the file.
 */
export async function readLabelMap(path: string): Promise<LabelMap> {
  let meta: Metadata;
  try {
    meta = await sharp(path, { failOn: DECODE_FAIL_ON, limitInputPixels: false }).metadata();
  } catch (error) {
    throw unreadable(path, (error as Error).message);
  }
  const bands = (meta.channels ?? 0) - (meta.hasAlpha ? 1 : 0);
  const depth = meta.depth ?? 'uchar';
  if (bands === 3 && (depth === 'uchar' || depth === 'ushort')) return readGreyInRgb(path, depth);
  if (bands !== 1) throw unreadable(path, `it has ${bands} colour channels`);
  const read: Record<string, { space: 'b-w' | 'grey16'; raw: 'uchar' | 'ushort' | 'uint' | 'int' }> = {
    uchar: { space: 'b-w', raw: 'uchar' },
    ushort: { space: 'grey16', raw: 'ushort' },
    uint: { space: 'b-w', raw: 'uint' },
    int: { space: 'b-w', raw: 'int' },
  };
  const how = read[depth];
  // (Signed 8- and 16-bit files are refused: libvips' 16-bit path would clip their negative values to 0 unseen.)
  if (!how) throw unreadable(path, `its pixels are ${depth} values, not unsigned 8-, 16- or 32-bit (or signed 32-bit) integers`);
  const { data, info } = await decode(path, how.raw, (image) => image.toColourspace(how.space).extractChannel(0));
  const size = { width: info.width, height: info.height };
  switch (how.raw) {
    case 'uchar':
      return { ...size, data: Uint16Array.from(new Uint8Array(data)) };
    case 'ushort':
      return { ...size, data: new Uint16Array(data) };
    case 'uint':
      return { ...size, data: new Uint32Array(data) };
    case 'int': {
      const labels = new Int32Array(data);
      const negative = labels.findIndex((v) => v < 0);
      if (negative >= 0) throw unreadable(path, `pixel (${negative % info.width}, ${Math.floor(negative / info.width)}) has the negative label ${labels[negative]}`);
      return { ...size, data: labels };
    }
  }
}

/** Decoded pixels in their own (aligned) ArrayBuffer, ready for a typed array. */
async function decode(path: string, depth: 'uchar' | 'ushort' | 'uint' | 'int', steps: (image: Sharp) => Sharp): Promise<{ data: ArrayBuffer; info: OutputInfo }> {
  try {
    const { data, info } = await steps(sharp(path, { failOn: DECODE_FAIL_ON, limitInputPixels: false }))
      .raw({ depth })
      .toBuffer({ resolveWithObject: true });
    return { data: data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer, info };
  } catch (error) {
    throw unreadable(path, (error as Error).message);
  }
}

/** An RGB(A) file whose three channels are equal everywhere, as its grey values. */
async function readGreyInRgb(path: string, depth: 'uchar' | 'ushort'): Promise<LabelMap<Uint16Array>> {
  const { data, info } = await decode(path, depth, (image) => image.toColourspace(depth === 'uchar' ? 'srgb' : 'rgb16').removeAlpha());
  const rgb = depth === 'uchar' ? new Uint8Array(data) : new Uint16Array(data);
  if (info.channels !== 3) throw unreadable(path, `decoded ${info.channels} channels where 3 were expected`);
  const labels = new Uint16Array(info.width * info.height);
  for (let i = 0; i < labels.length; i++) {
    const v = rgb[3 * i];
    if (rgb[3 * i + 1] !== v || rgb[3 * i + 2] !== v) {
      throw unreadable(path, `it is a colour image (pixel (${i % info.width}, ${Math.floor(i / info.width)}) is not grey)`);
    }
    labels[i] = v;
  }
  return { width: info.width, height: info.height, data: labels };
}

/**
 * A file as objects, for scoring: a label map with two or more labels is read as it is; a file with one value
 * besides 0 (a 0/1 or 0/255 mask, a semantic prediction) and a JPEG (lossy, so a mask, read as `readMask` reads it)
 * as the 8-connected components of its foreground, which is what the semantic outputs count as objects today.
 * (A label map holding a single object therefore becomes its connected components: the same object unless it is
 * in pieces.)
 */
export async function readObjects(path: string): Promise<{ readonly labels: LabelMap; readonly fromMask: boolean }> {
  const info = await sharp(path, { failOn: DECODE_FAIL_ON, limitInputPixels: false })
    .metadata()
    .catch((error: Error) => {
      throw unreadable(path, error.message);
    });
  if (info.format === 'jpeg') return { labels: componentLabelMap(await readMask(path)), fromMask: true };
  const labels = await readLabelMap(path);
  if (!isBinary(labels)) return { labels, fromMask: false };
  return { labels: componentLabelMap(labelForeground(labels)), fromMask: true };
}

/** Whether the map holds at most one value besides 0. */
function isBinary(map: LabelMap): boolean {
  const d = map.data;
  let seen = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v === 0) continue;
    if (seen === 0) seen = v;
    else if (v !== seen) return false;
  }
  return true;
}

/** The largest label; negative labels (Int32Array) are refused, naming `what`. */
function largestLabel(map: LabelMap, what: string): number {
  let max = 0;
  const d = map.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v > max) max = v;
    else if (v < 0) throw new ArgumentError(what, `has the negative label ${v} at pixel ${i}; labels are 0 (background) or positive`);
  }
  return max;
}

/** Writes a label map whose labels fit in 16 bits as a 16-bit grey PNG, atomically. */
export async function writeLabelPng(path: string, map: LabelMap): Promise<void> {
  const max = largestLabel(map, path);
  if (max > 65535) throw new ArgumentError(path, `has labels up to ${max}, more than a 16-bit PNG holds (65535); write it as a 32-bit TIFF`);
  const data = map.data instanceof Uint16Array ? map.data : Uint16Array.from(map.data);
  await writeAtomically(path, async (tmp) => {
    await sharp(data, { raw: { width: map.width, height: map.height, channels: 1 } }).toColourspace('grey16').png({ compressionLevel: 6 }).toFile(tmp);
  });
}

/** Writes a label map as a tiled, pyramidal 32-bit TIFF (any labels up to 2^32 - 1), atomically. */
export async function writeLabelTiff(path: string, map: LabelMap, options: LabelTiffOptions = {}): Promise<void> {
  largestLabel(map, path);
  const { width, data } = map;
  await writeLabelBands(path, width, map.height, (top, rows) => data.subarray(top * width, (top + rows) * width), options);
}

/**
 * Writes a label map of any size as a tiled, pyramidal 32-bit TIFF from bands of rows (`render`, called in order;
 * see label-tiff.ts), atomically: a slide's label map is never held whole, and an interrupted write leaves no file.
 */
export async function writeLabelBands(path: string, width: number, height: number, render: LabelBandRenderer, options: LabelTiffOptions = {}): Promise<void> {
  await writeAtomically(path, (tmp) => writeLabelTiffFile(tmp, width, height, render, options));
}

/**
 * Writes `<dir>/<name>.png` (16-bit) when the largest label fits in 65,535, else `<dir>/<name>.tif` (32-bit), as
 * QuPath, napari and Fiji open them; returns the path written.
 */
export async function writeLabelMap(dir: string, map: LabelMap, name = 'labels'): Promise<string> {
  const max = largestLabel(map, join(dir, name));
  const path = join(dir, `${name}.${max <= 65535 ? 'png' : 'tif'}`);
  if (max <= 65535) await writeLabelPng(path, map);
  else await writeLabelTiff(path, map);
  return path;
}

const MASK_EXTENSIONS = new Set(['.png', '.tif', '.tiff']);

/**
 * One mask file per object (any non-zero pixel is the object) to a label map: file k (in the order given) is
 * label k, and where masks overlap the later file wins, as DSB2018's `instances/` were made. Uint16Array labels
 * for up to 65,535 files, Uint32Array beyond. `size` is the image's, needed when there are no files.
 */
export async function labelMapFromMaskFiles(paths: readonly string[], size?: { width: number; height: number }): Promise<LabelMap> {
  if (paths.length === 0 && !size) throw new ArgumentError('paths', 'no mask files and no image size: give one mask file per object');
  let labels: Uint16Array | Uint32Array | undefined;
  let first: { path: string; width: number; height: number } | undefined = size && { path: 'the image', ...size };
  // Decoded a few at a time: a DSB2018 image has up to ~375 nucleus files.
  for (let i = 0; i < paths.length; i += 8) {
    const masks = await Promise.all(paths.slice(i, i + 8).map((p) => readMask(p, { rule: 'nonzero' })));
    masks.forEach((m, k) => {
      const path = paths[i + k];
      first ??= { path, width: m.width, height: m.height };
      if (m.width !== first.width || m.height !== first.height) {
        throw new StsError(`${path}: mask is ${m.width} x ${m.height} but ${first.path} is ${first.width} x ${first.height}; every object's mask must be the size of its image`);
      }
      labels ??= paths.length <= 65535 ? new Uint16Array(m.width * m.height) : new Uint32Array(m.width * m.height);
      const label = i + k + 1;
      const d = m.data;
      for (let j = 0; j < d.length; j++) if (d[j]) labels[j] = label;
    });
  }
  const { width, height } = first!;
  return { width, height, data: labels ?? new Uint16Array(width * height) };
}

/**
 * The Kaggle (DSB2018 `stage1_train`) layout of one image: `<id>/masks/*.png`, one file per object, in sorted
 * name order (hidden files skipped), read by `labelMapFromMaskFiles`. `<id>` is the folder holding `masks/`; its
 * `images/` gives the size when `masks/` is empty.
 */
export async function readObjectMaskFolder(dir: string): Promise<LabelMap> {
  const list = async (folder: string) =>
    (await readdir(folder, { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith('.') && MASK_EXTENSIONS.has(extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
  const masksDir = join(dir, 'masks');
  let names: string[];
  try {
    names = await list(masksDir);
  } catch (error) {
    throw new StsError(`${masksDir}: cannot list this folder (${(error as Error).message}); expected one mask PNG per object in <id>/masks/`);
  }
  if (names.length > 0) return labelMapFromMaskFiles(names.map((n) => join(masksDir, n)));
  const images = await list(join(dir, 'images')).catch(() => [] as string[]);
  if (images.length === 0) throw new StsError(`${masksDir}: has no mask files and ${join(dir, 'images')} no image to take the size from; expected one mask PNG per object`);
  const { width, height } = await readImageInfo(join(dir, 'images', images[0]));
  return labelMapFromMaskFiles([], { width, height });
}
