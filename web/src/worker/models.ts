/**
 * A rough + fine model pair from the app's URLs (TensorFlow.js) or the user's files, each a TensorFlow.js layers model
 * (model.json + weights.bin, as `sts train` writes it) or an ONNX model (`.onnx`, with its `.onnx.json` sidecar
 * or the `sts` metadata `sts export` writes), mixed freely. Both formats become the same `PageModel`, and the pair
 * is checked with the library's own rule (pairProblem, as `sts predict` checks it) before any image is segmented.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type DisposableNetwork, StsError, modelInputShape, modelNetwork, pairProblem, sidecarPath } from 'segment-then-segment/core';
import { openPageOnnxModel } from './onnx-runtime.js';
import type { BackendChoice, ModelPairInfo, ModelSource } from './protocol.js';

/** One network as the page runs it, whatever file format it came in. */
export interface PageModel {
  readonly name: string;
  readonly format: 'tfjs' | 'onnx';
  readonly size: number;
  readonly channels: number;
  /** What training recorded (`sts.scale`, `sts.stage`, ...); empty when nothing was. */
  readonly metadata: Record<string, unknown>;
  /** What runs it when that is not the page's TensorFlow.js backend ('ONNX Runtime wasm'). */
  readonly runtime?: string;
  /** The model as the pipeline's network, which owns the model from then on (one per model). */
  network(): DisposableNetwork;
  dispose(): void;
}

export interface ModelPair {
  readonly rough: PageModel;
  readonly fine: PageModel;
  readonly info: ModelPairInfo;
}

type Stage = 'rough' | 'fine';

export async function loadModelPair(source: ModelSource, backend: BackendChoice): Promise<ModelPair> {
  const [rough, fine] = await Promise.allSettled((['rough', 'fine'] as const).map((stage) => loadOne(source, stage, backend)));
  if (rough.status === 'rejected' || fine.status === 'rejected') {
    for (const r of [rough, fine]) if (r.status === 'fulfilled') r.value.dispose();
    throw (rough.status === 'rejected' ? rough.reason : (fine as PromiseRejectedResult).reason) as Error;
  }
  const [r, f] = [rough.value, fine.value];
  const problem = pairProblem(r, f);
  if (problem) {
    r.dispose();
    f.dispose();
    throw new StsError(problem);
  }
  return { rough: r, fine: f, info: { size: r.size, channels: r.channels, description: describePair(r, f) } };
}

const isOnnx = (name: string) => /\.onnx$/i.test(name);

async function loadOne(source: ModelSource, stage: Stage, backend: BackendChoice): Promise<PageModel> {
  if (source.kind === 'url') {
    // The app's bundled pairs are TensorFlow.js models.
    const url = source[stage];
    return tfjsModel(url, url.split('/').slice(-2).join('/'), stage);
  }
  const files = source[stage];
  const onnx = files.filter((f) => isOnnx(f.name));
  if (onnx.length > 1) throw new StsError(`${stage} model: ${onnx.length} .onnx files were picked (${onnx.map((f) => f.name).join(', ')}); pick one, with its .onnx.json sidecar if it has one`);
  if (onnx.length === 1) {
    const [model] = onnx;
    const others = files.filter((f) => f !== model);
    const sidecar = others.find((f) => f.name === sidecarPath(model.name)) ?? (others.length === 1 && others[0].name.endsWith('.json') ? others[0] : undefined);
    const stray = others.filter((f) => f !== sidecar);
    if (stray.length) throw new StsError(`${stage} model: ${stray.map((f) => f.name).join(', ')} picked beside ${model.name}; pick the .onnx file and, if it has one, its sidecar ${sidecarPath(model.name)}`);
    return openPageOnnxModel(new Uint8Array(await model.arrayBuffer()), sidecar ? await sidecar.text() : undefined, {
      path: model.name,
      sidecarName: sidecar?.name ?? sidecarPath(model.name),
      backend,
    });
  }
  const json = files.find((f) => f.name.endsWith('.json'));
  if (!json) throw new StsError(`${stage} model: no model.json or .onnx among the files picked; pick the model.json and weights.bin of a model folder, or an .onnx file`);
  if (files.length < 2) throw new StsError(`${stage} model: only ${json.name} was picked; pick its weights file (weights.bin) too`);
  return tfjsModel(tf.io.browserFiles([json, ...files.filter((f) => f !== json)]), json.name, stage);
}

async function tfjsModel(handler: string | tf.io.IOHandler, name: string, stage: Stage): Promise<PageModel> {
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(handler);
  } catch (error) {
    throw new StsError(
      `${stage} model: cannot be loaded (${(error as Error).message}); give a TensorFlow.js layers model (model.json + weights.bin, such as a 'best' folder written by 'sts train') or an .onnx file`,
    );
  }
  let shape: { size: number; channels: number };
  try {
    shape = modelInputShape(model);
    const out = model.outputs[0].shape;
    // A fine model may output object cores beside the foreground (an instance pair, src/instances/).
    const maps = stage === 'fine' ? [1, 2] : [1];
    if (out.length !== 4 || out[1] !== shape.size || out[2] !== shape.size || !maps.includes(out[3] as number)) {
      throw new Error(
        `outputs shape [${out.join(', ')}], not ${stage === 'fine' ? 'one or two' : 'one'} ${shape.size} x ${shape.size} probability map${stage === 'fine' ? 's' : ''}; load a segmentation model with a sigmoid output of ${stage === 'fine' ? '1 channel (foreground) or 2 (foreground and object cores)' : '1 channel (the rough network gives the foreground only)'}`,
      );
    }
  } catch (error) {
    model.dispose();
    throw new StsError(`${stage} model: ${(error as Error).message}`);
  }
  const metadata = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  let handedOut = false;
  return {
    name,
    format: 'tfjs',
    ...shape,
    metadata,
    network() {
      handedOut = true;
      // Made once per pair: it folds the model's batch norms on first use and owns the model from then on.
      return modelNetwork(model, { ownsModel: true });
    },
    dispose() {
      if (!handedOut) model.dispose();
      handedOut = true;
    },
  };
}

/** The architecture as training recorded it, and what runs ONNX models, for the page's model line. */
function describePair(rough: PageModel, fine: PageModel): string {
  const sts = rough.metadata.sts as { model?: { name?: string; features?: number } } | undefined;
  const spec = sts?.model;
  const what = spec?.name ? `${spec.name}${spec.features ? `, ${spec.features} base features` : ''}` : rough.name;
  const onnx = [rough, fine].filter((m) => m.format === 'onnx');
  if (!onnx.length) return what;
  const which = onnx.length === 2 ? 'both models' : `the ${onnx[0] === rough ? 'rough' : 'fine'} model`;
  return `${what}; ${which} ONNX, run by ${onnx[0].runtime ?? 'ONNX Runtime'}`;
}
