/**
 * The scale a rough network was trained at, recorded in the model's metadata (datasets/training-scale.ts measures
 * it), so that prediction on a much larger image can downscale by the same factor and show the network objects of
 * the size it learned, instead of squeezing a whole slide into S x S. With it, the pure rules that read it back.
 */
export interface TrainingScale {
  /** Median width and height of the training images, in original pixels. */
  readonly imageWidth: number;
  readonly imageHeight: number;
  /** Original pixels per network input pixel along x and y: the training images' median size over S. */
  readonly factorX: number;
  readonly factorY: number;
  /** Median pixel size of the training images in micrometres, when every one records a resolution. */
  readonly pixelSizeUm?: number;
}

export const ROUGH_INPUTS = ['whole-image', 'fixed-scale'] as const;
export type RoughInput = (typeof ROUGH_INPUTS)[number];

/**
 * The smallest rough scale (original pixels per rough input pixel) a prediction takes: 1 / 4 enlarges an image at
 * most 4x before the rough pass. Below it the enlargement, not the image, sets the work: `--scale 0.02` made a
 * 256 x 256 image a 12,800 x 12,800 rough input of 71,289 tiles (minutes, silently), `--scale 0.0005` or a
 * training scale of 1e-9 an allocation no machine has.
 */
export const MIN_ROUGH_SCALE = 0.25;

/** Why `factor` cannot be a rough scale (said for any image), or undefined when it can. */
export function roughScaleProblem(factor: number): string | undefined {
  if (Number.isFinite(factor) && factor >= MIN_ROUGH_SCALE) return undefined;
  if (!(Number.isFinite(factor) && factor > 0)) return `${factor} is not a positive number of original pixels per rough input pixel`;
  const enlarge = 1 / factor;
  const side = Math.round(1000 * enlarge);
  return (
    `${factor} original pixels per rough input pixel would enlarge every image ${enlarge < 10 ? enlarge.toFixed(1) : Math.round(enlarge).toLocaleString('en-US')}x before the rough pass ` +
    `(a 1,000 x 1,000 image would become ${side.toLocaleString('en-US')} x ${side.toLocaleString('en-US')}); the scale must be at least ${MIN_ROUGH_SCALE} (at most ${1 / MIN_ROUGH_SCALE}x)`
  );
}

/** One factor for both axes, so that objects keep their shape: the geometric mean of the median image's factors. */
export function isotropicScale(scale: TrainingScale): TrainingScale {
  const f = Math.sqrt(scale.factorX * scale.factorY);
  return { ...scale, factorX: f, factorY: f };
}

/** The rough input recorded by `sts train` (`sts.roughInput`); models without one were trained on whole images. */
export function roughInputOfMetadata(metadata: Record<string, unknown>): RoughInput {
  const sts = metadata.sts as { roughInput?: string } | undefined;
  return sts?.roughInput === 'fixed-scale' ? 'fixed-scale' : 'whole-image';
}

/** The scale recorded by `sts train` in a model's metadata (`sts.scale`), or undefined for older models. */
export function scaleOfMetadata(metadata: Record<string, unknown>): TrainingScale | undefined {
  const sts = metadata.sts as { scale?: Partial<TrainingScale> } | undefined;
  const s = sts?.scale;
  if (!s || !(Number(s.factorX) > 0) || !(Number(s.factorY) > 0)) return undefined;
  return s as TrainingScale;
}

/**
 * How the rough pass of a model pair runs on an image, as `sts predict` and the page both run it: at the training
 * scale recorded in the rough model (or `scale` original pixels per input pixel when given), tiled whenever the
 * rough network was trained on fixed-scale windows; `tiling: false` gives every image the paper's single S x S pass.
 */
export function roughPassOfModel(
  metadata: Record<string, unknown>,
  { scale, tiling = true }: { scale?: number; tiling?: boolean } = {},
): { scale?: Pick<TrainingScale, 'factorX' | 'factorY' | 'pixelSizeUm'>; tileAbove?: number } {
  if (!tiling) return {};
  const s = scale ? { factorX: scale, factorY: scale } : scaleOfMetadata(metadata);
  if (!s) return {};
  // A rough network trained on windows at its fixed scale sees every image that way; one trained on whole images
  // keeps the paper's single pass for images near the training size.
  return roughInputOfMetadata(metadata) === 'fixed-scale' ? { scale: s, tileAbove: 0 } : { scale: s };
}

/**
 * The --max-crop a fine network was trained with (`sts.maxCrop`): inference cuts larger boxes into S x S windows at
 * full resolution, as the network learned. Undefined for networks trained on squeezed crops only (the paper).
 */
export function maxCropOfMetadata(metadata: Record<string, unknown>): number | undefined {
  const value = (metadata.sts as { maxCrop?: unknown } | undefined)?.maxCrop;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * How a model pair runs, as `sts predict`, `sts evaluate`, `sts finetune`'s scoring and the page all run it: the
 * rough pass of the rough model (roughPassOfModel) and the fine network's recorded --max-crop (maxCropOfMetadata),
 * unless `maxCrop` is given. One function, so that no caller runs a pair differently from another.
 */
export function pairPassOfModels(
  rough: Record<string, unknown>,
  fine: Record<string, unknown> | undefined,
  o: { scale?: number; tiling?: boolean; maxCrop?: number } = {},
): { scale?: Pick<TrainingScale, 'factorX' | 'factorY' | 'pixelSizeUm'>; tileAbove?: number; maxCropSide?: number } {
  const maxCropSide = o.maxCrop ?? (fine ? maxCropOfMetadata(fine) : undefined);
  return { ...roughPassOfModel(rough, o), ...(maxCropSide !== undefined ? { maxCropSide } : {}) };
}

/**
 * The rough pass's scale for an image of `pixelSizeUm`: finer pixels than in training show objects larger, so they
 * are downscaled more (factor x trained / this size). Unchanged when either side records no pixel size.
 */
export function scaleForPixelSize(
  scale: Pick<TrainingScale, 'factorX' | 'factorY' | 'pixelSizeUm'> | undefined,
  pixelSizeUm: number | undefined,
): Pick<TrainingScale, 'factorX' | 'factorY' | 'pixelSizeUm'> | undefined {
  if (!scale?.pixelSizeUm || !pixelSizeUm) return scale;
  const k = scale.pixelSizeUm / pixelSizeUm;
  return { factorX: scale.factorX * k, factorY: scale.factorY * k, pixelSizeUm };
}
