/**
 * The scale a rough network was trained at, recorded in the model's metadata so that prediction on a much larger
 * image can downscale by the same factor and show the network objects of the size it learned, instead of squeezing
 * a whole slide into S x S.
 */
import sharp from 'sharp';
import type { Sample } from './dataset.js';
import { StsError } from '../errors.js';
import type { TrainingScale } from '../types/training-scale.js';

/**
 * The median size (and pixel size) of `samples`, read from their headers only. Volume slices have no single 2-D
 * file to measure and are measured from their mask when it is an image; otherwise there is no scale (undefined).
 */
export async function measureTrainingScale(samples: readonly Sample[], size: number): Promise<TrainingScale | undefined> {
  const files = samples.filter((s) => s.kind !== 'slice').map((s) => s.imagePath);
  if (files.length === 0) return undefined;
  const infos: { width: number; height: number; um?: number }[] = [];
  for (const path of files) {
    const meta = await sharp(path, { limitInputPixels: false }).metadata().catch((error: Error) => {
      throw new StsError(`${path}: cannot read this image's header (${error.message}); fix or remove the file`);
    });
    // PNG and TIFF carry a density in pixels per inch; 72 is a writer's default rather than a measurement.
    const um = meta.density && meta.density !== 72 ? 25_400 / meta.density : undefined;
    infos.push({ width: meta.width ?? 0, height: meta.height ?? 0, um });
  }
  const imageWidth = median(infos.map((i) => i.width));
  const imageHeight = median(infos.map((i) => i.height));
  const ums = infos.map((i) => i.um);
  const pixelSizeUm = ums.every((u) => u !== undefined) ? median(ums as number[]) : undefined;
  return {
    imageWidth,
    imageHeight,
    factorX: imageWidth / size,
    factorY: imageHeight / size,
    ...(pixelSizeUm !== undefined ? { pixelSizeUm } : {}),
  };
}

/**
 * What a rough network was trained on: the whole image resized to S x S (`whole-image`, the paper), or S x S windows
 * of images downscaled by its fixed training scale (`fixed-scale`, for large images: then every image, small or
 * large, should be segmented with the tiled pass at that scale).
 */
function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
