/**
 * A rough or fine network from wherever a user keeps it: a model folder of `sts train` (TensorFlow.js), or an
 * `.onnx` file (a PyTorch export, or `sts export`) with its sidecar. Both become the same thing, a `NetworkModel`
 * that knows its S, channels and training metadata and makes the pipeline's `SegmentationNetwork`, so that the
 * commands, the cohort workers and the library take either (and one of each in a pair) without a second code path.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { threadsOfEnvironment } from '../engine/backend.js';
import { loadModel } from '../engine/model-files.js';
import { loadOnnxModel } from '../engine/onnx/load-onnx.js';
import { StsError } from '../errors.js';
import { modelInputShape, modelNetwork } from '../pipeline/model-network.js';
import { type DisposableNetwork, networkSizeProblem } from '../types/network.js';

export interface NetworkModel {
  /** The folder or file it came from. */
  readonly path: string;
  readonly format: 'tfjs' | 'onnx';
  readonly size: number;
  readonly channels: number;
  /** What training recorded with the model (`sts.scale`, `sts.roughInput`); empty when nothing was. */
  readonly metadata: Record<string, unknown>;
  /** The file whose modification time tells this version of the model from another (results record it). */
  readonly versionFile: string;
  /** The TensorFlow.js model itself, for a model folder. */
  readonly tfjs?: tfl.LayersModel;
  /** The model as the pipeline's network; the network owns the model from then on (one per model). */
  network(o?: { batchSize?: number }): DisposableNetwork;
  /** Frees the model when no network was made of it. */
  dispose(): void;
}

export const isOnnxPath = (path: string) => /\.onnx$/i.test(path);

/** Opens `path`: an `.onnx` file (with `<file>.json` beside it or its own `sts` metadata), else a model folder. */
export async function openNetworkModel(path: string): Promise<NetworkModel> {
  if (isOnnxPath(path)) {
    const m = await loadOnnxModel(path, { threads: threadsOfEnvironment() });
    const { size, channels, metadata } = m.convention;
    return { path, format: 'onnx', size, channels, metadata, versionFile: path, network: (o) => m.network(o), dispose: () => m.dispose() };
  }
  if (!(await stat(path).then((s) => s.isDirectory(), () => false)) && (await stat(path).then(() => true, () => false))) {
    throw new StsError(`${path}: a file, not a model folder; give a model folder of sts train (model.json + weights.bin) or an .onnx file`);
  }
  const { model, metadata } = await loadModel(path);
  const { size, channels } = modelInputShape(model);
  // Checked here, where S enters, not by the first image's allocation ("Invalid typed array length").
  const sizeProblem = networkSizeProblem(size);
  if (sizeProblem) {
    model.dispose();
    throw new StsError(`${path}: the model takes ${size} x ${size} inputs: ${sizeProblem}; give a model trained with a smaller --size`);
  }
  let handedOut = false;
  return {
    path,
    format: 'tfjs',
    size,
    channels,
    metadata,
    versionFile: join(path, 'weights.bin'),
    tfjs: model,
    network({ batchSize } = {}) {
      if (handedOut) throw new StsError(`${path}: its network was made already`);
      handedOut = true;
      return modelNetwork(model, { batchSize, ownsModel: true });
    },
    dispose() {
      if (!handedOut) model.dispose();
      handedOut = true;
    },
  };
}
