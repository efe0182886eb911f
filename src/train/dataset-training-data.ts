/** A dataset's train and validation parts as the trainer's `TrainingData`, through the rough or fine sampler. */
import type { Dataset, Sample } from '../datasets/dataset.js';
import { type SampleOptions, type Stage, epochBatches } from './sampler.js';
import type { TrainingData } from './batch.js';
import { ArgumentError } from '../errors.js';

export interface DatasetTrainingOptions extends Omit<SampleOptions, 'augment' | 'jitter'> {
  readonly stage: Stage;
  /**
   * Times each image is drawn per epoch (default 1, the paper). Each draw is its own augmentation and, for the fine
   * stage, its own object's crop, so a few large labelled images (MoNuSeg's tiles hold hundreds of nuclei each) give
   * an epoch of many different samples. Validation draws as often, with its fixed seed.
   */
  readonly repeat?: number;
  /** Draws per epoch of each training sample, in `parts.train`'s order, on top of `repeat` (`balancedDraws`). */
  readonly draws?: readonly number[];
}

/** `samples` `times` times over, in order (the epoch's shuffle mixes them). */
function repeated<T>(samples: readonly T[], times: number): readonly T[] {
  return times === 1 ? samples : Array.from({ length: samples.length * times }, (_, i) => samples[i % samples.length]);
}

export function datasetTrainingData(
  dataset: Pick<Dataset, 'load' | 'channels'>,
  parts: { readonly train: readonly Sample[]; readonly valid: readonly Sample[] },
  options: DatasetTrainingOptions,
): TrainingData {
  const repeat = options.repeat ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new ArgumentError('--repeat', `must be a positive integer, got ${repeat}`);
  const { draws } = options;
  if (draws && draws.length !== parts.train.length) throw new ArgumentError('draws', `has ${draws.length} entries for ${parts.train.length} training samples`);
  // Validation is drawn as before: its score stays comparable with an unbalanced run's.
  const train = draws ? parts.train.flatMap((s, i) => Array.from({ length: draws[i] }, () => s)) : parts.train;
  parts = { train: repeated(train, repeat), valid: repeated(parts.valid, repeat) };
  return {
    size: options.size,
    channels: dataset.channels,
    // The last incomplete batch is left out of training, as the reference's DataLoader(drop_last=True) does.
    batchesPerEpoch: (batchSize) => Math.floor(parts.train.length / batchSize),
    trainBatches: (epoch, batchSize, seed) => epochBatches(dataset, parts.train, epoch, { ...options, batchSize, seed, dropLast: true }),
    validationBatches: (batchSize) =>
      // Validation is the same every epoch: no augmentation, no jitter, a fixed seed for the fine crop choice.
      epochBatches(dataset, parts.valid, 0, { ...options, batchSize, seed: 0, shuffle: false, augment: false, jitter: 0 }),
  };
}
