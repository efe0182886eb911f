/** The paper's hyper-parameters per dataset (batch / learning rate / epochs; Adam; best validation checkpoint). */
import type { Stage } from './sampler.js';
import { ArgumentError } from '../errors.js';

export const DATASET_PRESETS = ['cells', 'polyp', 'aorta'] as const;
export type DatasetPreset = (typeof DATASET_PRESETS)[number];
export const STAGES: readonly Stage[] = ['rough', 'fine'];

export interface Hyperparameters {
  readonly batchSize: number;
  readonly learningRate: number;
  readonly epochs: number;
}

const PAPER: Record<DatasetPreset, Hyperparameters> = {
  cells: { batchSize: 16, learningRate: 5e-4, epochs: 100 },
  polyp: { batchSize: 8, learningRate: 1e-3, epochs: 175 },
  aorta: { batchSize: 8, learningRate: 1e-3, epochs: 100 },
};

/** Fine networks train for half the rough network's epochs, as in the reference code. */
export function paperHyperparameters(dataset: DatasetPreset, stage: Stage): Hyperparameters {
  const p = PAPER[dataset];
  if (!p) throw new ArgumentError('--data', `no paper preset for '${dataset}'; presets: ${DATASET_PRESETS.join(', ')}`);
  return stage === 'fine' ? { ...p, epochs: Math.ceil(p.epochs / 2) } : p;
}

/**
 * Fine-tuning from pretrained weights (`--init`, `sts finetune`): a tenth of the paper's cells learning rate, a short
 * run that stops once validation has not improved for `patience` epochs, and each image drawn several times per
 * epoch so that an epoch of a handful of labelled images is still ~256 samples. Chosen so that 25 images fine-tune
 * both networks of a pair in minutes on 2 cores (docs/results/fine-tuning/ has the measurements).
 */
export const FINE_TUNING = { batchSize: 8, learningRate: 1e-4, epochs: 20, patience: 6, samplesPerEpoch: 256 } as const;

/** Draws per image per epoch for an epoch of about `FINE_TUNING.samplesPerEpoch` samples (at least 1). */
export function fineTuningRepeat(trainImages: number): number {
  return Math.max(1, Math.round(FINE_TUNING.samplesPerEpoch / Math.max(1, trainImages)));
}
