/**
 * Reading and writing 2-D images with sharp (libvips): PNG, JPEG, TIFF, 8 or 16 bit, gray/RGB/RGBA. Errors name the
 * file; outputs are written to a temporary name and renamed, so an interrupted run never leaves a partial file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { StsError } from '../errors.js';
import type { Mask, Raster } from '../geometry/raster.js';

export interface ReadImageOptions {
  /** Channels to return: 3 for RGB (alpha dropped, gray replicated), 1 for gray. Default: 3. */
  readonly channels?: 1 | 3;
}

/** Decodes an image file to 8-bit interleaved pixels (16-bit images are scaled to 8 bits). */
export async function readImage(path: string, { channels = 3 }: ReadImageOptions = {}): Promise<Raster<Uint8Array>> {
  try {
    let pipeline = sharp(path, { failOn: 'error', limitInputPixels: false }).toColourspace(channels === 1 ? 'b-w' : 'srgb');
    pipeline = channels === 1 ? pipeline.extractChannel(0) : pipeline.removeAlpha();
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) {
      throw new Error(`decoded ${info.channels} channels where ${channels} were asked`);
    }
    return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (error) {
    throw new StsError(`${path}: cannot read this image (${(error as Error).message}); give a PNG, JPEG or TIFF file`);
  }
}

/** Reads a mask image: foreground where the gray value is >= 128 (JPEG masks, as Kvasir-SEG's, need the threshold). */
export async function readMask(path: string): Promise<Mask<Uint8Array>> {
  const gray = await readImage(path, { channels: 1 });
  const data = gray.data.map((v) => (v >= 128 ? 1 : 0));
  return { width: gray.width, height: gray.height, channels: 1, data };
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

/** Runs `write(tmpPath)` and renames the result to `path`; the temporary file is removed on failure. */
export async function writeAtomically(path: string, write: (tmpPath: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await write(tmp);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
