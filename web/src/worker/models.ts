/**
 * A rough + fine model pair, loaded with tf.loadLayersModel from the app's URLs or the user's files, and checked
 * against each other and the pipeline before any image is segmented, so a misfit pair is reported at once.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { StsError, modelInputShape } from 'segment-then-segment/core';
import type { ModelPairInfo, ModelSource } from './protocol.js';

export interface ModelPair {
  readonly rough: tfl.LayersModel;
  readonly fine: tfl.LayersModel;
  readonly info: ModelPairInfo;
}

type Stage = 'rough' | 'fine';

export async function loadModelPair(source: ModelSource): Promise<ModelPair> {
  const [rough, fine] = await Promise.all((['rough', 'fine'] as const).map((stage) => loadOne(source, stage)));
  try {
    const info = checkPair(rough, fine);
    return { rough, fine, info };
  } catch (error) {
    rough.dispose();
    fine.dispose();
    throw error;
  }
}

async function loadOne(source: ModelSource, stage: Stage): Promise<tfl.LayersModel> {
  let handler: string | tf.io.IOHandler;
  if (source.kind === 'url') {
    handler = source[stage];
  } else {
    const files = source[stage];
    const json = files.find((f) => f.name.endsWith('.json'));
    if (!json) throw new StsError(`${stage} model: no model.json among the files picked; pick the model.json and weights.bin of a model folder`);
    if (files.length < 2) throw new StsError(`${stage} model: only ${json.name} was picked; pick its weights file (weights.bin) too`);
    handler = tf.io.browserFiles([json, ...files.filter((f) => f !== json)]);
  }
  try {
    return await tfl.loadLayersModel(handler);
  } catch (error) {
    throw new StsError(
      `${stage} model: cannot be loaded (${(error as Error).message}); give a TensorFlow.js layers model (model.json + weights.bin), such as a 'best' folder written by 'sts train'`,
    );
  }
}

function checkPair(rough: tfl.LayersModel, fine: tfl.LayersModel): ModelPairInfo {
  const r = inputOf(rough, 'rough');
  const f = inputOf(fine, 'fine');
  if (r.size !== f.size) {
    throw new StsError(
      `the rough model takes ${r.size} x ${r.size} inputs but the fine model takes ${f.size} x ${f.size}; Segment-then-Segment needs both at the same size S: load a pair trained with the same --size`,
    );
  }
  if (r.channels !== f.channels) {
    throw new StsError(`the rough model takes ${r.channels} channels but the fine model ${f.channels}; load a pair trained on the same dataset`);
  }
  for (const [model, stage] of [[rough, 'rough'], [fine, 'fine']] as const) {
    const trainedAs = stsMetadata(model)?.stage;
    if (typeof trainedAs === 'string' && trainedAs !== stage) {
      throw new StsError(`the ${stage} model was trained as the ${trainedAs} network; swap the two models`);
    }
  }
  return { size: r.size, channels: r.channels, description: describe(rough) };
}

function inputOf(model: tfl.LayersModel, stage: Stage): { size: number; channels: number } {
  let shape: { size: number; channels: number };
  try {
    shape = modelInputShape(model);
  } catch (error) {
    throw new StsError(`${stage} model: ${(error as Error).message}; Segment-then-Segment needs a square S x S input`);
  }
  if (shape.channels !== 1 && shape.channels !== 3) {
    throw new StsError(`${stage} model: takes ${shape.channels} channels; this page feeds gray (1) or RGB (3) images: load a model trained on such images`);
  }
  const out = model.outputs[0].shape;
  if (out.length !== 4 || out[1] !== shape.size || out[2] !== shape.size || out[3] !== 1) {
    throw new StsError(
      `${stage} model: outputs shape [${out.join(', ')}], not one ${shape.size} x ${shape.size} probability map; load a segmentation model with a single-channel sigmoid output`,
    );
  }
  return shape;
}

function stsMetadata(model: tfl.LayersModel): Record<string, unknown> | undefined {
  const meta = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  const sts = meta?.sts;
  return typeof sts === 'object' && sts !== null ? (sts as Record<string, unknown>) : undefined;
}

function describe(model: tfl.LayersModel): string {
  const sts = stsMetadata(model);
  const spec = sts?.model as { name?: string; features?: number } | undefined;
  return spec?.name ? `${spec.name}${spec.features ? `, ${spec.features} base features` : ''}` : model.name;
}
