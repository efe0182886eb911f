/**
 * Reading and writing 2-D images with sharp (libvips): PNG, JPEG, TIFF, 8 or 16 bit, gray/RGB/RGBA. Errors name the
 * file; outputs are written to a temporary name and renamed, so an interrupted run never leaves a partial file.
 *
 * What happens to the odd inputs, on purpose the same as the reference's `cv.imread(path)` (IMREAD_COLOR):
 * - 16-bit images come back as 8 bits, value >> 8 (65535 -> 255, 256 -> 1).
 * - gray images are replicated to 3 channels when 3 are asked; RGB is averaged to luminance when 1 is asked.
 * - RGBA: the alpha channel is dropped, not composited (DSB2018's PNGs are RGBA with alpha 255 everywhere).
 * - EXIF orientation is applied (cv.imread does too); float and signed TIFFs are scaled to 0..255 by their range
 *   (`sample-scaling.ts`); corrupt JPEG data is refused. All of it in `image-decoding.ts`, shared with the windowed
 *   reader of `sts predict`.
 * Masks are read at their own bit depth (see `readMask`), so a 16-bit label map keeps its small labels.
 */
import sharp from 'sharp';
import { writeAtomically } from './atomic-write.js';
import { ArgumentError, StsError } from '../errors.js';
import type { Mask, Raster } from '../geometry/raster.js';
import { decodeTo8Bit, openImageFile, readImageBytes, scalingOf } from './image-decoding.js';

export { DECODE_FAIL_ON } from './image-decoding.js';

export interface ReadImageOptions {
  /** Channels to return: 3 for RGB (alpha dropped, gray replicated), 1 for gray. Default: 3. */
  readonly channels?: 1 | 3;
}

/** Decodes an image file to 8-bit interleaved pixels (16-bit images are scaled to 8 bits). */
export async function readImage(path: string, { channels = 3 }: ReadImageOptions = {}): Promise<Raster<Uint8Array>> {
  const bytes = await readImageBytes(path).catch(cannotRead(path));
  try {
    const meta = await openImageFile(bytes).metadata();
    const scaling = await scalingOf(path, openImageFile(bytes), meta);
    return await decodeTo8Bit(openImageFile(bytes), channels, scaling);
  } catch (error) {
    if (error instanceof StsError) throw error;
    throw new StsError(`${path}: cannot read this image (${(error as Error).message}); give a PNG, JPEG or TIFF file`);
  }
}

/** The error for a file that cannot be read at all; errors that already name the file pass through. */
function cannotRead(path: string) {
  return (error: Error): never => {
    if (error instanceof StsError) throw error;
    throw new StsError(`${path}: cannot read this image (${error.message}); give a PNG, JPEG or TIFF file`);
  };
}

/**
 * Which gray values of a mask file are foreground. Every command reads masks by `auto` (training, evaluation,
 * `sts metrics`, the demo), so a mask file means the same thing everywhere:
 * - `half`: at least half the bit depth's range (>= 128 of 255, >= 32768 of 65535): JPEG masks such as
 *   Kvasir-SEG's, whose compression smears 0/255 into nearby values, need this;
 * - `nonzero`: any value above 0: 0/1 masks and 16-bit label maps (k = the k-th object), which `half` would empty;
 * - `auto`: `half` for JPEG files, `nonzero` for lossless formats.
 */
export type MaskRule = 'half' | 'nonzero' | 'auto';

export interface ReadMaskOptions {
  /** Default `auto`: JPEG masks at half their range, lossless ones (0/1, 0/255, 16-bit label maps) as non-zero. */
  readonly rule?: MaskRule;
}

/** Reads a mask image as 0/1 (foreground per `rule`; colour masks are taken through their luminance). */
export async function readMask(path: string, { rule = 'auto' }: ReadMaskOptions = {}): Promise<Mask<Uint8Array>> {
  let gray: { width: number; height: number; data: Uint8Array | Uint16Array; max: number; jpeg: boolean };
  const bytes = await readImageBytes(path).catch(cannotRead(path));
  try {
    const image = openImageFile(bytes);
    const meta = await image.metadata();
    const deep = meta.depth === 'ushort' || meta.depth === 'short';
    const { data, info } = await image
      .toColourspace(deep ? 'grey16' : 'b-w')
      .extractChannel(0)
      .raw({ depth: deep ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const values = deep
      ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length))
      : new Uint8Array(data.buffer, data.byteOffset, data.length);
    gray = { width: info.width, height: info.height, data: values, max: deep ? 65535 : 255, jpeg: meta.format === 'jpeg' };
  } catch (error) {
    throw new StsError(`${path}: cannot read this image (${(error as Error).message}); give a PNG, JPEG or TIFF file`);
  }
  const effective = rule === 'auto' ? (gray.jpeg ? 'half' : 'nonzero') : rule;
  if (effective !== 'half' && effective !== 'nonzero') {
    throw new ArgumentError('rule', `unknown mask rule '${String(rule)}'; use 'half', 'nonzero' or 'auto'`);
  }
  const threshold = effective === 'half' ? (gray.max + 1) / 2 : 1;
  const out = new Uint8Array(gray.data.length);
  const d = gray.data;
  for (let i = 0; i < d.length; i++) out[i] = d[i] >= threshold ? 1 : 0;
  return { width: gray.width, height: gray.height, channels: 1, data: out };
}

/** Width, height, channels and bit depth from the file's header, without decoding its pixels. */
export async function readImageInfo(path: string): Promise<{ width: number; height: number; channels: number; bits: 8 | 16 }> {
  try {
    const meta = await openImageFile(path).metadata();
    if (!meta.width || !meta.height || !meta.channels) throw new Error('no image size in its header');
    const bits = meta.depth === 'ushort' || meta.depth === 'short' ? 16 : 8;
    // The size as the image is read: upright, after its EXIF orientation.
    return { width: meta.autoOrient.width, height: meta.autoOrient.height, channels: meta.channels, bits };
  } catch (error) {
    throw new StsError(`${path}: cannot read this image (${(error as Error).message}); give a PNG, JPEG or TIFF file`);
  }
}

/** Writes 8-bit pixels (1, 3 or 4 channels) as PNG, atomically. */
export async function writePng(path: string, image: Raster<Uint8Array>): Promise<void> {
  await writeAtomically(path, async (tmp) => {
    await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 | 4 } })
      .png({ compressionLevel: 9 })
      .toFile(tmp);
  });
}

/** A 0/1 mask as a 0/255 PNG. */
export async function writeMaskPng(path: string, mask: Mask): Promise<void> {
  const data = new Uint8Array(mask.data.length);
  for (let i = 0; i < data.length; i++) data[i] = mask.data[i] >= 0.5 ? 255 : 0;
  await writePng(path, { width: mask.width, height: mask.height, channels: 1, data });
}

