/** The three architectures of the paper, by name, with the checks every caller needs. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors.js';
import { type InitScheme, withSeed } from './blocks.js';
export { INIT_SCHEMES, type InitScheme } from './blocks.js';
import { deeplabv3plus } from './deeplabv3plus.js';
import { resunetpp } from './resunetpp.js';
import { unet } from './unet.js';

export const MODEL_NAMES = ['unet', 'resunetpp', 'deeplabv3plus'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelSpec {
  readonly name: ModelName;
  /** Input size S: the networks see S x S images. */
  readonly size: number;
  /** 1 (gray, CT) or 3 (RGB). */
  readonly channels: number;
  /** Width of the first stage, where the architecture has one (U-Net 32, ResUNet++ 16). */
  readonly features?: number;
  /** Output maps: 1 (the foreground), or 2 (foreground and object cores, for instances: src/instances/). */
  readonly outputs?: number;
}

export interface CreateModelOptions {
  /** Seed for the initial weights; unseeded (Math.random) when absent. */
  readonly seed?: number;
  /** Whose layer defaults the initial weights follow; default `pytorch`, as the reference trained. */
  readonly init?: InitScheme;
}

export function checkModelSpec(spec: ModelSpec): void {
  if (!MODEL_NAMES.includes(spec.name)) {
    throw new ArgumentError('--model', `unknown model '${String(spec.name)}'; use one of ${MODEL_NAMES.join(', ')}`);
  }
  if (!Number.isInteger(spec.size) || spec.size < 16 || spec.size % 16 !== 0) {
    throw new ArgumentError('--size', `must be a multiple of 16 (the networks halve it four times), got ${spec.size}`);
  }
  if (spec.channels !== 1 && spec.channels !== 3) {
    throw new ArgumentError('channels', `must be 1 or 3, got ${spec.channels}`);
  }
  if (spec.outputs !== undefined && spec.outputs !== 1 && spec.outputs !== 2 && spec.outputs !== 3) {
    throw new ArgumentError('outputs', `must be 1 (foreground), 2 (foreground and cores) or 3 (foreground and centre flows), got ${spec.outputs}`);
  }
  if (spec.features !== undefined && (!Number.isInteger(spec.features) || spec.features < 1)) {
    throw new ArgumentError('--features', `must be a positive integer, got ${spec.features}`);
  }
}

export function createModel(spec: ModelSpec, { seed, init = 'pytorch' }: CreateModelOptions = {}): tfl.LayersModel {
  checkModelSpec(spec);
  const { size, channels, features, outputs } = spec;
  return withSeed(seed, () => {
    switch (spec.name) {
      case 'unet':
        return unet({ size, channels, features, outputs });
      case 'resunetpp':
        return resunetpp({ size, channels, features, outputs });
      case 'deeplabv3plus':
        return deeplabv3plus({ size, channels, outputs });
    }
  }, init);
}

export function trainableParameterCount(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}

/**
 * The blocks of each architecture that make its encoder (the downsampling path and its bottleneck: U-Net's
 * `enc1`..`enc4` and `bottleneck`, ResUNet++'s stem, encoder units and ASPP bridge, DeepLabv3+'s ResNet-34 backbone),
 * by the first part of their layers' names. What a fine-tuning that freezes the encoder at first keeps still.
 */
const ENCODER_BLOCKS: Readonly<Record<ModelName, readonly string[]>> = {
  unet: ['enc1', 'enc2', 'enc3', 'enc4', 'bottleneck'],
  resunetpp: ['stem', 'enc2', 'enc3', 'enc4', 'bridge'],
  deeplabv3plus: ['stem', 'layer1', 'layer2', 'layer3', 'layer4'],
};

/** Whether the layer called `layerName` of a `model` network belongs to its encoder. */
export function isEncoderLayer(model: ModelName, layerName: string): boolean {
  return ENCODER_BLOCKS[model].includes(layerName.split('_')[0]);
}
