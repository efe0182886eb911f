/** A dataset's train and validation parts as the trainer's `TrainingData`, through the rough or fine sampler. */
import type { Dataset, Sample } from '../datasets/dataset.js';
import { type SampleOptions, type Stage, epochBatches } from './sampler.js';
import type { TrainingData } from './batch.js';

export interface DatasetTrainingOptions extends Omit<SampleOptions, 'augment' | 'jitter'> {
  readonly stage: Stage;
}

export function datasetTrainingData(
  dataset: Pick<Dataset, 'load' | 'channels'>,
  parts: { readonly train: readonly Sample[]; readonly valid: readonly Sample[] },
  options: DatasetTrainingOptions,
): TrainingData {
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
