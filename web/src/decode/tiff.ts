/**
 * TIFF through geotiff.js: strips or tiles, the usual compressions, pyramids (the full-resolution level is read,
 * since Segment-then-Segment's crops need full resolution; the smaller levels are never decoded).
 */
import { fromBlob, type GeoTIFFImage } from 'geotiff';
import { StsError, type Raster } from 'segment-then-segment/core';
import { assertFits, toRgb8, type Samples } from './to-rgb.js';

const PHOTOMETRIC_WHITE_IS_ZERO = 0;
const PHOTOMETRIC_BLACK_IS_ZERO = 1;
const PHOTOMETRIC_RGB = 2;
const SAMPLE_FORMAT_UINT = 1;

export async function decodeTiff(file: Blob, name: string): Promise<Raster<Uint8Array>> {
  const unsupported = (why: string) =>
    new StsError(`${name}: unsupported TIFF (${why}); save it as an 8- or 16-bit gray or RGB TIFF, PNG or JPEG and open that`);
  let image: GeoTIFFImage;
  try {
    const tiff = await fromBlob(file);
    image = await largestImage(tiff);
  } catch (error) {
    throw unsupported((error as Error).message);
  }
  const width = image.getWidth();
  const height = image.getHeight();
  assertFits(width, height, name);
  const channels = image.getSamplesPerPixel();
  const bits = image.getBitsPerSample(0);
  const format = image.getSampleFormat(0);
  const photometric = Number(image.fileDirectory.getValue('PhotometricInterpretation'));
  if (format !== SAMPLE_FORMAT_UINT) throw unsupported(`sample format ${format}: only unsigned integer samples are read`);
  try {
    if ((bits === 8 || bits === 16) && [PHOTOMETRIC_BLACK_IS_ZERO, PHOTOMETRIC_RGB, PHOTOMETRIC_WHITE_IS_ZERO].includes(photometric)) {
      const data = (await image.readRasters({ interleave: true })) as unknown as Samples;
      if (photometric === PHOTOMETRIC_WHITE_IS_ZERO) {
        const max = bits === 16 ? 65535 : 255;
        for (let i = 0; i < data.length; i++) data[i] = max - data[i];
      }
      return toRgb8(width, height, channels, bits, data, name);
    }
    // Palette, YCbCr (JPEG-in-TIFF), CMYK and Lab: geotiff.js converts these to 8-bit RGB itself.
    if (bits === 8 || photometric === 3) {
      const rgb = (await image.readRGB({ interleave: true })) as unknown as Uint8Array;
      return toRgb8(width, height, 3, 8, rgb, name);
    }
  } catch (error) {
    if (error instanceof StsError) throw error;
    throw unsupported((error as Error).message);
  }
  throw unsupported(`${bits}-bit samples with photometric interpretation ${photometric}`);
}

/** A pyramid's levels are separate images; the full-resolution one is the largest, usually but not always the first. */
async function largestImage(tiff: Awaited<ReturnType<typeof fromBlob>>): Promise<GeoTIFFImage> {
  const count = await tiff.getImageCount();
  let best = await tiff.getImage(0);
  for (let i = 1; i < count; i++) {
    const candidate = await tiff.getImage(i);
    if (candidate.getWidth() * candidate.getHeight() > best.getWidth() * best.getHeight()) best = candidate;
  }
  return best;
}
