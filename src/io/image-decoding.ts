/**
 * How every user image file is opened and decoded to the 8-bit pixels the networks take, whether it is read whole
 * (`readImage`, training) or window by window (`openImageSource`, prediction), so that both see the same pixels:
 * - no pixel limit (sharp's default refuses images above 268 megapixels; `sts` reads any size);
 * - EXIF orientation applied, as every viewer applies it: a phone's JPEG stored sideways with orientation 6 is
 *   segmented upright, and its mask, objects and overlay line up with what the user sees;
 * - strict decoding: libvips' warnings are errors, and a sequential JPEG's data is checked to end where its last
 *   block does (`jpeg-data.ts`), which libvips does not check;
 * - samples other than 8/16-bit unsigned (float, signed) scaled to 0..255 by `sample-scaling.ts`'s rule.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { StsError } from '../errors.js';
import type { Raster } from '../geometry/raster.js';
import { jpegDataProblem } from './jpeg-data.js';
import { type SampleScaling, type SampleType, needsScaling, sampleScaling } from './sample-scaling.js';

/**
 * How strictly every image file is decoded: libvips' `warning` level, so corrupt data (a JPEG with overwritten
 * bytes, a TIFF with a damaged tile) is an error naming the file instead of pixels made up with a warning. It
 * still opens every valid real file: all 4,316 images and masks of the DSB2018 and Kvasir-SEG folders
 * (`node scripts/check-decoding.mjs warning <folders>`).
 */
export const DECODE_FAIL_ON = 'warning' as const;

/** A user's image file (or its bytes) opened as every reader opens it (see above). */
export function openImageFile(input: string | Buffer, options: SharpOptions = {}): Sharp {
  return sharp(input, { failOn: DECODE_FAIL_ON, limitInputPixels: false, autoOrient: true, ...options });
}

/**
 * The bytes of an image file, refused by name when it is a JPEG whose compressed data is corrupt in a way libvips
 * decodes into garbage without a word (bytes overwritten mid-file: "extraneous bytes before marker").
 */
export async function readImageBytes(path: string): Promise<Buffer> {
  const bytes = await readFile(path);
  await refuseCorruptJpeg(path, bytes);
  return bytes;
}

export async function refuseCorruptJpeg(path: string, bytes: Uint8Array): Promise<void> {
  const problem = await jpegDataProblem(bytes);
  if (problem) throw new StsError(`${path}: cannot read this image (${problem}): the file is damaged; get an intact copy (a JPEG viewer may still show it, with garbage where the damage is)`);
}

/** A scaling of samples to 0..255, with the interpretation libvips gave them (kept, so no colour conversion runs). */
export interface ImageScaling extends SampleScaling {
  readonly space: Metadata['space'];
}

/**
 * The scaling of an image's samples to 0..255 when they are not 8/16-bit unsigned (undefined otherwise), from
 * the image's range over its colour channels; refused by name where there is none (complex samples, NaN).
 * `image` is the page to be read; its statistics take one pass over its pixels.
 */
export async function scalingOf(path: string, image: Sharp, meta: Metadata): Promise<ImageScaling | undefined> {
  if (!needsScaling(meta.depth ?? 'uchar')) return undefined;
  const stats = await image.stats().catch((error: Error) => {
    throw new StsError(`${path}: cannot read this image (${error.message}); check that the file is complete`);
  });
  const colour = stats.channels.slice(0, meta.hasAlpha ? -1 : undefined);
  // libvips' min and max skip nothing: with a NaN or an infinity among the samples they are meaningless, and the
  // sum is not finite.
  const finite = colour.every((c) => Number.isFinite(c.sum));
  const min = finite ? Math.min(...colour.map((c) => c.min)) : Number.NaN;
  const scaling = sampleScaling(meta.depth as SampleType, min, Math.max(...colour.map((c) => c.max)));
  if (typeof scaling === 'string') throw new StsError(`${path}: cannot map its pixels to 0..255: ${scaling}`);
  return { ...scaling, space: meta.space };
}

/**
 * Decodes `pipeline` to 8-bit interleaved pixels with `channels` channels: 16-bit >> 8, gray replicated to RGB,
 * RGB averaged to luminance for 1 channel, alpha dropped (as `cv.imread` does); other sample types by `scaling`.
 * Throws libvips' own error: callers say which file.
 */
export async function decodeTo8Bit(pipeline: Sharp, channels: 1 | 3, scaling?: ImageScaling): Promise<Raster<Uint8Array>> {
  if (scaling) {
    // Scaled and cast to 8 bits in the samples' own interpretation (no colour conversion: libvips takes float RGB
    // for linear light and signed gray for 16-bit), then converted to the channels as any 8-bit image is.
    const { data, info } = await pipeline
      .linear(scaling.multiply, scaling.add + 0.5)
      .toColourspace(scaling.space)
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    pipeline = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
  }
  const p = pipeline.toColourspace(channels === 1 ? 'b-w' : 'srgb');
  const { data, info } = await (channels === 1 ? p.extractChannel(0) : p.removeAlpha()).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels where ${channels} were asked`);
  return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
