/**
 * Where fine-tuning starts (`sts train --init`, `sts finetune`): the weights of a trained network, named as a user
 * names a pair elsewhere — a catalog name (`nuclei`), a pair folder (`./my-pair`, whose `rough/` or `fine/` is taken
 * by the stage), or one model folder (a run's `best/`). The architecture comes from the model itself (what
 * `sts train` recorded), so a user does not repeat --model, --size or --features, and a contradiction is named.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadModel } from '../engine/model-files.js';
import { ArgumentError } from '../errors.js';
import { MODEL_NAMES, type ModelName, type ModelSpec } from '../models/index.js';
import { catalogEntry, isPairPath } from './catalog.js';

export interface PretrainedWeights {
  /** What the user gave (`--init`), as recorded in the new model's metadata. */
  readonly source: string;
  /** The model folder read. */
  readonly path: string;
  /** The architecture to build and fill with these weights. */
  readonly spec: ModelSpec;
  readonly model: tfl.LayersModel;
  readonly metadata: Record<string, unknown>;
}

const exists = (path: string) => access(path).then(() => true, () => false);

/** The model folder `source` names for `stage`: a model folder itself, else the stage's half of a pair. */
export async function pretrainedFolder(source: string, stage: 'rough' | 'fine'): Promise<string> {
  if (await exists(join(source, 'model.json'))) return source;
  if (isPairPath(source) || (await exists(join(source, stage, 'model.json')))) {
    if (await exists(join(source, stage, 'model.json'))) return join(source, stage);
    throw new ArgumentError('--init', `${source} holds neither model.json (a model folder, e.g. a run's best/) nor ${stage}/model.json (a pair folder); give one of those or a catalog name (sts models lists them)`);
  }
  const entry = await catalogEntry(source).catch((error: Error) => {
    throw new ArgumentError('--init', `${error.message.replace(/^--model: /, '')}; or give a model folder (a run's best/) or a pair folder`);
  });
  return stage === 'rough' ? entry.rough : entry.fine;
}

/** Loads the weights `source` names for `stage`, with the architecture they were trained as. */
export async function openPretrainedWeights(source: string, stage: 'rough' | 'fine'): Promise<PretrainedWeights> {
  const path = await pretrainedFolder(source, stage);
  const { model, metadata } = await loadModel(path);
  const recorded = (metadata.sts as { model?: Partial<ModelSpec> } | undefined)?.model;
  if (!recorded || !MODEL_NAMES.includes(recorded.name as ModelName) || typeof recorded.size !== 'number' || typeof recorded.channels !== 'number') {
    model.dispose();
    throw new ArgumentError('--init', `${path}: the model does not record which architecture it is (sts.model in model.json, written by sts train); fine-tuning starts only from models sts trained`);
  }
  const spec: ModelSpec = {
    name: recorded.name as ModelName,
    size: recorded.size,
    channels: recorded.channels,
    ...(recorded.features !== undefined ? { features: recorded.features } : {}),
    ...(recorded.outputs !== undefined && recorded.outputs !== 1 ? { outputs: recorded.outputs } : {}),
  };
  return { source, path, spec, model, metadata };
}

/**
 * Copies `from`'s weights into `to` (same architecture), weight by weight, naming the first that does not fit: a
 * network built for other settings than the pretrained one is an error, never a partial load.
 */
export function copyWeights(from: tfl.LayersModel, to: tfl.LayersModel, what: string): void {
  const source = from.weights;
  const target = to.weights;
  if (source.length !== target.length) {
    throw new ArgumentError('--init', `${what} has ${source.length} weight tensors, the network to train ${target.length}: not the same architecture`);
  }
  for (let i = 0; i < source.length; i++) {
    const [a, b] = [source[i].shape, target[i].shape];
    if (a.length !== b.length || a.some((d, k) => d !== b[k])) {
      throw new ArgumentError('--init', `${what}: weight ${i} (${target[i].originalName}) is [${a.join(', ')}] there and [${b.join(', ')}] in the network to train: not the same architecture`);
    }
  }
  to.setWeights(from.getWeights());
}
