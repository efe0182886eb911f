/** What the trainer consumes: epochs of batches (the samplers' NHWC float32 batches), and validation batches. */
import type { Batch } from './sampler.js';

export type { Batch };

export interface TrainingData {
  /** S. */
  readonly size: number;
  readonly channels: number;
  /** Number of training batches in one epoch. */
  batchesPerEpoch(batchSize: number): number;
  /**
   * The training batches of epoch `epoch` (0-based). The same epoch gives the same batches (order, augmentation,
   * crops) for the same seed, so that a resumed run sees what an uninterrupted one would have.
   */
  trainBatches(epoch: number, batchSize: number, seed: number): AsyncIterable<Batch> | Iterable<Batch>;
  /** Validation batches: no augmentation, no jitter, the same every time. */
  validationBatches(batchSize: number): AsyncIterable<Batch> | Iterable<Batch>;
}
