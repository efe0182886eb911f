/** What the trainer consumes: batches of S x S samples as contiguous NHWC float32, ready for a tensor engine. */

export interface Batch {
  /** count x S x S x channels network inputs. */
  readonly inputs: Float32Array;
  /** count x S x S x 1 targets, 0 or 1. */
  readonly targets: Float32Array;
  readonly count: number;
}

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
