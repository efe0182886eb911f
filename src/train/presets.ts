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
