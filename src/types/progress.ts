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
  /**
   * The rough pass's first event (done 0), sent before any pixel is read: the image's size and the work it implies,
   * so that a slide, or a small file that claims to be one, is announced before minutes go by.
   */
  readonly plan?: RoughPassPlan;
}

export interface RoughPassPlan {
  /** The image, in original pixels. */
  readonly width: number;
  readonly height: number;
  /** 'single': the paper's one S x S pass; 'tiled': the downscaled image in S x S tiles. */
  readonly mode: 'single' | 'tiled';
  /** The rough pass's input (the downscaled image). */
  readonly roughWidth: number;
  readonly roughHeight: number;
  readonly tiles: number;
}

export type OnProgress = (progress: Progress) => void;
