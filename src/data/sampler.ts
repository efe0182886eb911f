/**
 * Turning loaded samples into network inputs. The rough network sees the whole (augmented) image resized to S x S;
 * the fine network sees one random ground-truth component crop of it, its box jittered, squared and padded by the
 * core's `boxesOfMask`, resized to S x S (the whole image when no box survives). As in the reference, the
 * augmentation comes first and the boxes are found on the augmented mask.
 *
 * Inputs are float32 with the image's own values (0..255 for photographs, windowed CT for volumes); masks 0/1.
 * Each sample's randomness comes from (seed, epoch, sample index) alone, so batches are reproducible and a run
 * resumed at epoch e sees what an uninterrupted one would have.
 */
import { ArgumentError } from '../errors.js';
import type { DropPolicy } from '../geometry/boxes.js';
import { paddingForSize } from '../geometry/boxes.js';
import { cropResize } from '../geometry/crop.js';
import { boxesOfMask } from '../geometry/proposals.js';
import { type Box, type Mask, type Raster, assertPositiveInteger } from '../geometry/raster.js';
import { type ResizeMode, resize, resizeNearest } from '../geometry/resize.js';
import { type Rng, deriveSeed, seededRng, shuffled } from '../random.js';
import { type AugmentOptions, augment } from './augment.js';
import type { Dataset, LoadedSample, Sample } from './dataset.js';

export type Stage = 'rough' | 'fine';

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
}

export interface TrainingPair {
  /** S x S x C float32. */
  readonly input: Raster<Float32Array>;
  /** S x S, 0/1. */
  readonly mask: Mask<Uint8Array>;
  /** Fine stage: the crop box in the augmented image; null when the whole image was used. */
  readonly box: Box | null;
}

function augmented(loaded: LoadedSample, rng: Rng, options: SampleOptions): LoadedSample {
  if (options.augment === false) return loaded;
  const { image, mask } = augment(loaded.image as Raster<Uint8Array | Float32Array>, loaded.mask, rng, options.augment === true || options.augment === undefined ? {} : options.augment);
  return { image, mask } as LoadedSample;
}

function toFloat(r: Raster): Raster<Float32Array> {
  return r.data instanceof Float32Array ? (r as Raster<Float32Array>) : { ...r, data: Float32Array.from(r.data) };
}

function toBinary(r: Raster): Mask<Uint8Array> {
  const out = new Uint8Array(r.data.length);
  for (let i = 0; i < out.length; i++) out[i] = r.data[i] >= 0.5 ? 1 : 0;
  return { width: r.width, height: r.height, channels: 1, data: out };
}

/** Rough-stage pair: the augmented image and mask, each resized to S x S. */
export function roughPair(loaded: LoadedSample, rng: Rng, options: SampleOptions): TrainingPair {
  assertPositiveInteger(options.size, 'size');
  const { image, mask } = augmented(loaded, rng, options);
  const S = options.size;
  return {
    input: toFloat(resize(image as Raster, S, S, options.resize ?? 'nearest')),
    mask: resizeNearest(mask, S, S) as Mask<Uint8Array>,
    box: null,
  };
}

/**
 * Fine-stage pair: boxes of every component of the augmented mask (each jittered, squared, padded, dropped or
 * clipped per the policy), one picked uniformly, image and mask cut to it and resized to S x S.
 */
export function finePair(loaded: LoadedSample, rng: Rng, options: SampleOptions): TrainingPair {
  assertPositiveInteger(options.size, 'size');
  const { image, mask } = augmented(loaded, rng, options);
  const S = options.size;
  const jitter = options.jitter ?? 16;
  const boxes = boxesOfMask(mask, {
    padding: options.padding ?? paddingForSize(S),
    dropPolicy: options.dropPolicy ?? 'reference',
    jitter: jitter > 0 ? { rng, amount: jitter } : undefined,
  });
  if (boxes.length === 0) {
    return {
      input: toFloat(resize(image as Raster, S, S, options.resize ?? 'nearest')),
      mask: resizeNearest(mask, S, S) as Mask<Uint8Array>,
      box: null,
    };
  }
  const box = boxes[rng.int(0, boxes.length - 1)];
  return {
    input: cropResize(image, box, S, S, options.resize ?? 'nearest'),
    mask: toBinary(cropResize(mask, box, S, S, 'nearest')),
    box,
  };
}

export interface Batch {
  /** N x S x S x C, contiguous (NHWC). */
  readonly inputs: Float32Array;
  /** N x S x S x 1, 0/1. */
  readonly masks: Float32Array;
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
      ids.push(samples[index].id);
      boxes.push(p.box);
    }
    yield { inputs: inputs as Float32Array, masks, count: n, size: S, channels, ids, boxes };
  }
}
