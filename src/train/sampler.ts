/**
 * Turning loaded samples into network inputs. The rough network sees the whole (augmented) image resized to S x S
 * (the paper), or, trained for large images, an S x S window of the image downscaled by one fixed factor (what the
 * tiled rough pass of `sts predict` shows it); the fine network sees one random ground-truth component crop of it,
 * resized to S x S (the whole image when no box survives). The crop boxes are made as the reference makes them
 * (`fineCrops: 'reference'`, the default): the components of the *un-augmented* mask, each box jittered, squared,
 * padded and dropped by the core's `boxesOfMask`, then carried through the image's augmentation (`augmentBox`), so
 * that a mirrored copy of an object at the border never joins its box. `fineCrops: 'augmented-mask'` (this project
 * before 2026-12) augments first and finds the boxes on the augmented mask.
 *
 * Inputs are float32 with the image's own values (0..255 for photographs, windowed CT for volumes); masks 0/1.
 * Each sample's randomness comes from (seed, epoch, sample index) alone, so batches are reproducible and a run
 * resumed at epoch e sees what an uninterrupted one would have.
 */
import { ArgumentError } from '../errors.js';
import type { DropPolicy } from '../geometry/boxes.js';
import { paddingForSize, windowSide } from '../geometry/boxes.js';
import { cropResize } from '../geometry/crop.js';
import { boxesOfMask } from '../geometry/proposals.js';
import { type Box, type Mask, type Raster, assertPositiveInteger } from '../geometry/raster.js';
import { type ResizeMode, nearestSourceIndices, resize } from '../geometry/resize.js';
import { type Rng, deriveSeed, seededRng, shuffled, uniform } from '../random.js';
import { drawStain, restained } from './stain-augment.js';
import type { CoreTarget } from '../instances/core-target.js';
import { flowToUnit, flowsOfLabels } from '../instances/flow-target.js';
import type { LabelMap } from '../geometry/label-map.js';
import { type AugmentOptions, type AugmentParams, augmentBox, augmentImageAt, augmentMaskAt, drawAugmentation, everyIndex } from './augment.js';
import type { Dataset, LoadedSample, Sample } from '../datasets/dataset.js';

export type Stage = 'rough' | 'fine';

/** How the fine stage's training crops are made; see the header. */
export type FineCrops = 'reference' | 'augmented-mask';
export const FINE_CROPS: readonly FineCrops[] = ['reference', 'augmented-mask'];

export interface SampleOptions {
  /** The network's input side S. */
  readonly size: number;
  /** Image resize: `nearest` as the reference (PyTorch's default), or `bilinear`. Masks are always nearest. */
  readonly resize?: ResizeMode;
  /** Augment (training) or not (validation, testing); options tune it. Default true. */
  readonly augment?: boolean | AugmentOptions;
  /** Fine stage: context padding in pixels. Default S // 8. */
  readonly padding?: number;
  /** Fine stage: box jitter in pixels (x, y, w, h independently); 0 for validation. Default 16. */
  readonly jitter?: number;
  /** Fine stage: boxes that do not fit the image are dropped (`reference`) or clipped (`clip`). */
  readonly dropPolicy?: DropPolicy;
  /** Fine stage: boxes from the un-augmented mask carried through the augmentation (`reference`, default) or from the augmented mask. */
  readonly fineCrops?: FineCrops;
  /**
   * Rough stage: downscale every image by these factors (original pixels per input pixel) and take a random S x S
   * window of it, padded with 0 where the image is smaller, instead of resizing the whole image to S x S.
   */
  readonly roughScale?: { readonly factorX: number; readonly factorY: number };
  /**
   * Rough stage, with `roughScale`, when augmenting: each window's factors multiplied by one 2^u, u uniform in
   * [-j, j], so that the network meets objects larger and smaller than the training set's at the scale it runs at
   * (H&E nuclei of one magnification vary 3x in diameter between tissues). Default 0: the one scale.
   */
  readonly scaleJitter?: number;
  /** Fine stage: also give each crop's object cores (the dataset must have instance labels). Default false. */
  readonly cores?: boolean;
  /**
   * With `cores`: the dataset's cores are the `depth` target (0..255, src/instances/core-target.ts), given to the
   * network as 0..1; `binary` (default) cores are 0/1 already.
   */
  readonly coreTarget?: CoreTarget;
  /**
   * Fine stage: also give each crop's centre flows (src/instances/flow-target.ts), made from the crop's own instance
   * labels after the augmentation (the dataset must have instance labels). Default false.
   */
  readonly flows?: boolean;
  /**
   * Fine stage: a crop box with a longer side than this is replaced by a random S x S window inside it at full
   * resolution, as inference then segments such a box (`sts predict --max-crop`): the network learns the scale it
   * will see. Default: every box squeezed to S x S, as the paper.
   */
  readonly maxCrop?: number;
  /**
   * Colour augmentation of 8-bit images, drawn after the reference's (so runs without it are unchanged): with
   * probability 0.8 each channel v becomes gain * v + bias, gain in [1 - a, 1 + a] and bias in [-64a, 64a], clamped
   * to 0..255. For stains that vary between sites (H&E). Default 0: the reference has none.
   */
  readonly colorJitter?: number;
  /**
   * H&E stain augmentation of 8-bit RGB images (`stain-augment.ts`), drawn before the colour jitter: with probability
   * 0.8 the staining made paler or darker by a factor up to f, and each stain by a further factor up to sqrt(f). For
   * slides stained paler or darker than the training set's. Default 1: none.
   */
  readonly stainJitter?: number;
}

export interface TrainingPair {
  /** S x S x C float32. */
  readonly input: Raster<Float32Array>;
  /** S x S, 0/1. */
  readonly mask: Mask<Uint8Array>;
  /** Fine stage: the crop box in the augmented image; null when the whole image was used. */
  readonly box: Box | null;
  /** S x S, 0/1: the objects' cores, with `cores`. */
  readonly core?: Mask<Uint8Array>;
  /** S x S x 2 (dy, dx), each as 0..1 (`flowToUnit`): the objects' centre flows, with `flows`. */
  readonly flow?: Float32Array;
}

function augmentOptions(options: SampleOptions): AugmentOptions | null {
  if (options.augment === false) return null;
  return options.augment === true || options.augment === undefined ? {} : options.augment;
}

function toFloat(r: Raster): Raster<Float32Array> {
  return r.data instanceof Float32Array ? (r as Raster<Float32Array>) : { ...r, data: Float32Array.from(r.data) };
}

function toBinary(r: Raster): Mask<Uint8Array> {
  const out = new Uint8Array(r.data.length);
  for (let i = 0; i < out.length; i++) out[i] = r.data[i] >= 0.5 ? 1 : 0;
  return { width: r.width, height: r.height, channels: 1, data: out };
}

/**
 * The augmentation drawn for one sample, applied lazily: `imageAt` gives the augmented image's pixels at a grid of
 * columns and rows (-1: outside, left 0). With the reference's nearest resize the network's S x S input reads S^2
 * pixels of the augmented image, so only those are computed (equal, bit for bit, to augmenting the whole image
 * first; for a 1,000 x 1,000 image at S = 32 a thousandth of the work).
 */
interface AugmentedSample {
  readonly width: number;
  readonly height: number;
  readonly params: AugmentParams;
  maskAt(cols: Int32Array, rows: Int32Array): Mask<Uint8Array>;
  /** The augmented instance labels (all 0 when the sample has none). */
  labelsAt(cols: Int32Array, rows: Int32Array): LabelMap;
  /** The augmented core mask (an empty one when the sample has none). */
  coreAt(cols: Int32Array, rows: Int32Array): Mask<Uint8Array>;
  imageAt(cols: Int32Array, rows: Int32Array): Raster;
}

function augmentedSample(loaded: LoadedSample, rng: Rng, options: SampleOptions): AugmentedSample {
  const image = loaded.image as Raster<Uint8Array | Float32Array>;
  const { width, height } = image;
  const opts = augmentOptions(options);
  if (loaded.mask.width !== width || loaded.mask.height !== height) {
    throw new ArgumentError('mask', `is ${loaded.mask.width} x ${loaded.mask.height} but the image is ${width} x ${height}`);
  }
  // Not augmenting is the identity augmentation: the same sampling path, reading pixels unchanged.
  const params = opts ? drawAugmentation(rng, opts) : { affine: null, flip: false };
  const stainFactor = options.stainJitter ?? 1;
  if (stainFactor > 1 && image.channels !== 3) {
    throw new ArgumentError('--stain-jitter', `is for RGB (H&E) images, but this image has ${image.channels} channel(s): leave it out for this dataset`);
  }
  const stain = opts && stainFactor > 1 && image.data instanceof Uint8Array ? drawStain(rng, stainFactor) : null;
  const colour = opts && options.colorJitter && image.data instanceof Uint8Array ? drawColour(rng, options.colorJitter, image.channels) : null;
  const augmentedAt = (cols: Int32Array, rows: Int32Array) => augmentImageAt(image, params, cols, rows, opts ?? {});
  const pixelsAt = stain ? (cols: Int32Array, rows: Int32Array) => restained(augmentedAt(cols, rows), stain) : augmentedAt;
  return {
    width,
    height,
    params,
    maskAt: (cols, rows) => augmentMaskAt(loaded.mask, params, cols, rows, opts ?? {}),
    labelsAt: (cols, rows) =>
      loaded.labels
        ? (augmentMaskAt({ ...loaded.labels, channels: 1 } as unknown as Mask<Uint8Array>, params, cols, rows, opts ?? {}) as unknown as LabelMap)
        : { width: cols.length, height: rows.length, data: new Uint16Array(cols.length * rows.length) },
    coreAt: (cols, rows) =>
      loaded.core ? augmentMaskAt(loaded.core, params, cols, rows, opts ?? {}) : { width: cols.length, height: rows.length, channels: 1, data: new Uint8Array(cols.length * rows.length) },
    imageAt: colour ? (cols, rows) => recoloured(pixelsAt(cols, rows), colour) : pixelsAt,
  };
}

interface ColourDraw {
  readonly gain: readonly number[];
  readonly bias: readonly number[];
}

function drawColour(rng: Rng, amount: number, channels: number): ColourDraw | null {
  if (uniform(rng, 0, 1) >= 0.8) return null;
  const gain = Array.from({ length: channels }, () => uniform(rng, 1 - amount, 1 + amount));
  const bias = Array.from({ length: channels }, () => uniform(rng, -64 * amount, 64 * amount));
  return { gain, bias };
}

function recoloured(r: Raster, { gain, bias }: ColourDraw): Raster<Float32Array> {
  const c = r.channels;
  const data = new Float32Array(r.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.max(0, r.data[i] * gain[i % c] + bias[i % c]));
  return { width: r.width, height: r.height, channels: c, data };
}

/** Source indices of a nearest resize of `length` pixels from `start` to `size`; -1 outside 0..limit-1. */
function nearestGrid(start: number, length: number, size: number, limit: number): Int32Array {
  const idx = nearestSourceIndices(length, size);
  for (let i = 0; i < idx.length; i++) {
    const v = start + idx[i];
    idx[i] = v >= 0 && v < limit ? v : -1;
  }
  return idx;
}

/** The whole augmented image resized to S x S: computed at the picked pixels for `nearest`, whole for `bilinear`. */
function resizedInput(sample: AugmentedSample, S: number, mode: ResizeMode): Raster<Float32Array> {
  if (mode === 'nearest') return toFloat(sample.imageAt(...resizeGrids(sample, S)));
  const whole = sample.imageAt(everyIndex(sample.width), everyIndex(sample.height));
  return toFloat(resize(whole, S, S, mode));
}

/** The columns and rows a nearest resize of the whole sample to S x S reads. */
function resizeGrids(sample: AugmentedSample, S: number): [Int32Array, Int32Array] {
  return [nearestGrid(0, sample.width, S, sample.width), nearestGrid(0, sample.height, S, sample.height)];
}

/**
 * The columns (or rows) of an S-pixel window at a random offset into the sample downscaled by `factor`, with the
 * downscale's own nearest rule (the predict pipeline's reader): -1 where the window passes the image's end.
 */
function fixedScaleGrid(length: number, factor: number, S: number, rng: Rng): Int32Array {
  const scaled = Math.max(1, Math.round(length / factor));
  const source = nearestSourceIndices(length, scaled);
  // Larger than S: any window inside; smaller: the image anywhere inside the window.
  const offset = scaled >= S ? rng.int(0, scaled - S) : -rng.int(0, S - scaled);
  const grid = new Int32Array(S);
  for (let i = 0; i < S; i++) {
    const j = offset + i;
    grid[i] = j >= 0 && j < scaled ? source[j] : -1;
  }
  return grid;
}

/** Rough-stage pair: the augmented image and mask, each resized to S x S (or a window at the fixed scale). */
export function roughPair(loaded: LoadedSample, rng: Rng, options: SampleOptions): TrainingPair {
  assertPositiveInteger(options.size, 'size');
  const sample = augmentedSample(loaded, rng, options);
  const S = options.size;
  if (options.roughScale) {
    const j = options.augment !== false ? (options.scaleJitter ?? 0) : 0;
    if (!(j >= 0)) throw new ArgumentError('--scale-jitter', `must be 0 or more (log2 of the largest factor), got ${j}`);
    const by = j > 0 ? 2 ** uniform(rng, -j, j) : 1;
    const [factorX, factorY] = [options.roughScale.factorX * by, options.roughScale.factorY * by];
    if (!(factorX > 0 && factorY > 0)) throw new ArgumentError('roughScale', `factors must be positive, got ${factorX} x ${factorY}`);
    const cols = fixedScaleGrid(sample.width, factorX, S, rng);
    const rows = fixedScaleGrid(sample.height, factorY, S, rng);
    // A bilinear downscale is not what the predict pipeline reads: the fixed-scale window is always nearest.
    return { input: toFloat(sample.imageAt(cols, rows)), mask: sample.maskAt(cols, rows), box: null };
  }
  return {
    input: resizedInput(sample, S, options.resize ?? 'nearest'),
    mask: sample.maskAt(...resizeGrids(sample, S)),
    box: null,
  };
}

/**
 * A random W x W window of `box` (W from `windowSide`), kept inside the image where the image is that large, as the
 * streaming pipeline cuts a box larger than --max-crop (pipeline/streaming-sts.ts `splitLargeBoxes`).
 */
function windowInside(box: Box, W: number, image: { width: number; height: number }, rng: Rng): Box {
  const start = (from: number, length: number, limit: number) => {
    const s = from + rng.int(0, Math.max(0, length - W));
    return limit >= W ? Math.max(0, Math.min(s, limit - W)) : s;
  };
  return { left: start(box.left, box.width, image.width), top: start(box.top, box.height, image.height), width: W, height: W };
}

/**
 * Fine-stage pair: the boxes of every component (each jittered, squared, padded, dropped or clipped per the policy;
 * made as `fineCrops` says), one picked uniformly, image and mask cut to it and resized to S x S.
 */
export function finePair(loaded: LoadedSample, rng: Rng, options: SampleOptions): TrainingPair {
  assertPositiveInteger(options.size, 'size');
  const fineCrops = options.fineCrops ?? 'reference';
  if (!FINE_CROPS.includes(fineCrops)) throw new ArgumentError('--fine-crops', `must be one of ${FINE_CROPS.join(', ')}, got '${String(fineCrops)}'`);
  const sample = augmentedSample(loaded, rng, options);
  const S = options.size;
  const mode = options.resize ?? 'nearest';
  const jitter = options.jitter ?? 16;
  const boxOptions = {
    padding: options.padding ?? paddingForSize(S),
    dropPolicy: options.dropPolicy ?? 'reference',
    jitter: jitter > 0 ? { rng, amount: jitter } : undefined,
  };
  if (options.cores && !loaded.core) {
    throw new ArgumentError('--targets', 'instances needs one label per object: give the dataset an instances/ folder of label maps beside masks/ (16-bit PNG, 0 = background), or one mask file per object (the Kaggle layout)');
  }
  if (options.flows && !loaded.labels) {
    throw new ArgumentError('--targets', 'flows need one label per object: give the dataset an instances/ folder of label maps beside masks/ (16-bit PNG, 0 = background), or one mask file per object (the Kaggle layout)');
  }
  const cores = (grids: [Int32Array, Int32Array]) => ({
    ...(options.cores ? { core: sample.coreAt(...grids) } : {}),
    ...(options.flows ? { flow: Float32Array.from(flowsOfLabels(sample.labelsAt(...grids)), flowToUnit) } : {}),
  });
  const whole = () => ({ input: resizedInput(sample, S, mode), mask: sample.maskAt(...resizeGrids(sample, S)), box: null, ...cores(resizeGrids(sample, S)) });
  let boxes: Box[];
  let mask: Mask<Uint8Array> | undefined;
  if (fineCrops === 'reference') {
    boxes = boxesOfMask(loaded.mask, boxOptions).flatMap((b) => augmentBox(b, sample.params, sample.width, sample.height) ?? []);
  } else {
    mask = sample.maskAt(everyIndex(sample.width), everyIndex(sample.height));
    boxes = boxesOfMask(mask, boxOptions);
  }
  if (boxes.length === 0) return whole();
  const picked = boxes[rng.int(0, boxes.length - 1)];
  const box = options.maxCrop !== undefined && Math.max(picked.width, picked.height) > options.maxCrop ? windowInside(picked, windowSide(options.maxCrop, S), sample, rng) : picked;
  // The augmented mask is computed whole only where it is needed anyway; otherwise just the crop's S x S pixels.
  const cropMask =
    mask === undefined && mode === 'nearest'
      ? sample.maskAt(nearestGrid(box.left, box.width, S, sample.width), nearestGrid(box.top, box.height, S, sample.height))
      : toBinary(cropResize(mask ?? sample.maskAt(everyIndex(sample.width), everyIndex(sample.height)), box, S, S, 'nearest'));
  const input =
    mode === 'nearest'
      ? toFloat(sample.imageAt(nearestGrid(box.left, box.width, S, sample.width), nearestGrid(box.top, box.height, S, sample.height)))
      : cropResize(sample.imageAt(everyIndex(sample.width), everyIndex(sample.height)), box, S, S, mode);
  // Cores are read at the crop's nearest grid whatever the image resize (as the mask is, up to the resize of a whole augmented mask).
  return { input, mask: cropMask, box, ...cores([nearestGrid(box.left, box.width, S, sample.width), nearestGrid(box.top, box.height, S, sample.height)]) };
}

export interface Batch {
  /** N x S x S x C, contiguous (NHWC). */
  readonly inputs: Float32Array;
  /** N x S x S x 1, 0/1. */
  readonly masks: Float32Array;
  /** N x S x S x 1: the objects' cores (0/1, or each pixel's depth 0..1 for the `depth` target), with `cores` (fine stage). */
  readonly cores?: Float32Array;
  /** N x S x S x 2: the objects' centre flows (dy, dx) as 0..1, with `flows` (fine stage). */
  readonly flows?: Float32Array;
  readonly count: number;
  readonly size: number;
  readonly channels: number;
  readonly ids: readonly string[];
  /** Fine stage: each sample's crop box (null: whole image). */
  readonly boxes: readonly (Box | null)[];
}

export interface BatchOptions extends SampleOptions {
  readonly stage: Stage;
  readonly batchSize: number;
  readonly seed: number;
  /** Shuffle the order each epoch (training); false keeps the samples' order. Default true. */
  readonly shuffle?: boolean;
  /** Leave out a last, smaller batch. Default false. */
  readonly dropLast?: boolean;
  /** Samples decoded ahead of the one being turned into a pair. Default: one batch. */
  readonly prefetch?: number;
}

/** The order of `count` samples in `epoch`: a seeded permutation, different each epoch. */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  return shuffled(
    Array.from({ length: count }, (_, i) => i),
    seededRng(deriveSeed(seed, epoch, 0x0e90c)),
  );
}

/** One epoch of batches of `samples` (a split's part) from `dataset`. */
export async function* epochBatches(
  dataset: Pick<Dataset, 'load'>,
  samples: readonly Sample[],
  epoch: number,
  options: BatchOptions,
): AsyncGenerator<Batch> {
  const { stage, batchSize, seed, shuffle = true, dropLast = false } = options;
  assertPositiveInteger(batchSize, 'batchSize');
  assertPositiveInteger(options.size, 'size');
  if (stage !== 'rough' && stage !== 'fine') throw new ArgumentError('stage', `must be 'rough' or 'fine', got '${String(stage)}'`);
  const order = shuffle ? epochOrder(samples.length, seed, epoch) : samples.map((_, i) => i);
  const end = dropLast ? order.length - (order.length % batchSize) : order.length;
  const pair = stage === 'rough' ? roughPair : finePair;
  const ahead = Math.max(1, options.prefetch ?? batchSize);
  const pending: Promise<LoadedSample>[] = [];
  let requested = 0;
  const request = () => {
    while (requested < end && pending.length < ahead) pending.push(dataset.load(samples[order[requested++]]));
  };
  const S = options.size;
  for (let start = 0; start < end; start += batchSize) {
    const n = Math.min(batchSize, end - start);
    let inputs: Float32Array | undefined;
    const masks = new Float32Array(n * S * S);
    const cores = options.cores ? new Float32Array(n * S * S) : undefined;
    const flows = options.flows ? new Float32Array(n * S * S * 2) : undefined;
    const ids: string[] = [];
    const boxes: (Box | null)[] = [];
    let channels = 0;
    for (let k = 0; k < n; k++) {
      request();
      const loaded = await (pending.shift() as Promise<LoadedSample>);
      request();
      const index = order[start + k];
      const p = pair(loaded, seededRng(deriveSeed(seed, epoch, index)), options);
      if (!inputs) {
        channels = p.input.channels;
        inputs = new Float32Array(n * S * S * channels);
      } else if (p.input.channels !== channels) {
        throw new ArgumentError('samples', `${samples[index].imagePath} has ${p.input.channels} channels, the batch ${channels}`);
      }
      inputs.set(p.input.data, k * S * S * channels);
      masks.set(p.mask.data, k * S * S);
      if (cores && p.core) {
        if (options.coreTarget === 'depth') for (let j = 0; j < S * S; j++) cores[k * S * S + j] = p.core.data[j] / 255;
        else cores.set(p.core.data, k * S * S);
      }
      if (flows && p.flow) flows.set(p.flow, k * S * S * 2);
      ids.push(samples[index].id);
      boxes.push(p.box);
    }
    yield { inputs: inputs as Float32Array, masks, ...(cores ? { cores } : {}), ...(flows ? { flows } : {}), count: n, size: S, channels, ids, boxes };
  }
}
