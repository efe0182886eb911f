/**
 * Progress of long work, one shape everywhere: the pipeline's rough and fine passes, training, the page's worker
 * (transformers.js' progress callbacks, in our terms). `done` of `total` units of `stage`; training adds its epoch
 * and the running loss.
 */
export type ProgressStage = 'rough' | 'fine' | 'train';

export interface Progress {
  readonly stage: ProgressStage;
  readonly done: number;
  readonly total: number;
  /** Training: the epoch (1-based), how many there are, and the epoch's mean loss so far. */
  readonly epoch?: number;
  readonly epochs?: number;
  readonly loss?: number;
}

export type OnProgress = (progress: Progress) => void;
