/**
 * ResUNet++ as the paper cites it (Jha et al., "ResUNet++: An Advanced Architecture for Medical Image
 * Segmentation", ISM 2019): a residual stem and three stride-2 residual encoder units, each followed by
 * squeeze-and-excitation; an ASPP bridge; a decoder whose every stage gates the encoder features with an
 * attention unit, upsamples (nearest, x2), concatenates the skip and applies a residual unit; an ASPP head and a
 * 1 x 1 conv with sigmoid. Filters 16, 32, 64, 128 and 256 for the bridge, as in the paper.
 *
 * (The reference code's "Res-U-Net++" is a U-Net++ with a ResNet-34 encoder instead; we follow the cited paper.)
 * 4,062,993 trainable parameters for 3 input channels (4,062,673 for 1) (see test/models/models.test.ts).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { type SymbolicTensor, add, batchNorm, channelsOf, concat, conv, layerInit, relu } from './blocks.js';

export interface ResUNetPPOptions {
  readonly size: number;
  readonly channels: number;
  readonly features?: number;
  /** Output maps: 1 (the foreground), or 2 (foreground and object cores, for instances: src/instances/). */
  readonly outputs?: number;
}

/** Squeeze-and-excitation (Hu et al. 2018) with reduction ratio 8: channel weights from global context. */
function squeezeExcite(x: SymbolicTensor, name: string): SymbolicTensor {
  const c = channelsOf(x);
  let s = tfl.layers.globalAveragePooling2d({ name: `${name}_squeeze` }).apply(x) as SymbolicTensor;
  s = tfl.layers.dense({ units: Math.max(1, Math.floor(c / 8)), activation: 'relu', useBias: false, ...layerInit(c, 'glorot'), name: `${name}_fc1` }).apply(s) as SymbolicTensor;
  s = tfl.layers.dense({ units: c, activation: 'sigmoid', useBias: false, ...layerInit(Math.max(1, Math.floor(c / 8)), 'glorot'), name: `${name}_fc2` }).apply(s) as SymbolicTensor;
  s = tfl.layers.reshape({ targetShape: [1, 1, c], name: `${name}_reshape` }).apply(s) as SymbolicTensor;
  return tfl.layers.multiply({ name: `${name}_scale` }).apply([x, s]) as SymbolicTensor;
}

/** 1 x 1 projection shortcut, batch-normalised, so that the residual sum has matching shape. */
function shortcut(x: SymbolicTensor, filters: number, strides: number, name: string): SymbolicTensor {
  return batchNorm(conv(x, filters, `${name}_shortcut`, { kernel: 1, strides }), `${name}_shortcut_bn`);
}

function stem(x: SymbolicTensor, filters: number, name: string): SymbolicTensor {
  let y = conv(x, filters, `${name}_conv1`);
  y = relu(batchNorm(y, `${name}_bn1`));
  y = conv(y, filters, `${name}_conv2`);
  return squeezeExcite(add([y, shortcut(x, filters, 1, name)], `${name}_add`), `${name}_se`);
}

/** Pre-activation residual unit (BN, ReLU, conv) x 2 with a projection shortcut. */
function residual(x: SymbolicTensor, filters: number, strides: number, name: string): SymbolicTensor {
  let y = relu(batchNorm(x, `${name}_bn1`));
  y = conv(y, filters, `${name}_conv1`, { strides });
  y = relu(batchNorm(y, `${name}_bn2`));
  y = conv(y, filters, `${name}_conv2`);
  return squeezeExcite(add([y, shortcut(x, filters, strides, name)], `${name}_add`), `${name}_se`);
}

/** Atrous spatial pyramid pooling: dilations 6, 12, 18 and 1, summed, then a 1 x 1 conv. */
function aspp(x: SymbolicTensor, filters: number, name: string): SymbolicTensor {
  const branches = [6, 12, 18, 1].map((d) => batchNorm(conv(x, filters, `${name}_d${d}`, { dilation: d }), `${name}_d${d}_bn`));
  return conv(add(branches, `${name}_sum`), filters, `${name}_project`, { kernel: 1 });
}

/** Attention unit: encoder features `g` (twice the resolution) and decoder features `x` weight `x`. */
function attention(g: SymbolicTensor, x: SymbolicTensor, name: string): SymbolicTensor {
  const filters = channelsOf(x);
  let gc = conv(relu(batchNorm(g, `${name}_g_bn`)), filters, `${name}_g_conv`);
  gc = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${name}_g_pool` }).apply(gc) as SymbolicTensor;
  const xc = conv(relu(batchNorm(x, `${name}_x_bn`)), filters, `${name}_x_conv`);
  const sum = add([gc, xc], `${name}_sum`);
  const gate = conv(relu(batchNorm(sum, `${name}_bn`)), filters, `${name}_conv`);
  return tfl.layers.multiply({ name: `${name}_gate` }).apply([gate, x]) as SymbolicTensor;
}

export function resunetpp({ size, channels, features = 16, outputs = 1 }: ResUNetPPOptions): tfl.LayersModel {
  const f = [features, features * 2, features * 4, features * 8, features * 16];
  const input = tfl.input({ shape: [size, size, channels], name: 'image' });
  const c1 = stem(input, f[0], 'stem');
  const c2 = residual(c1, f[1], 2, 'enc2');
  const c3 = residual(c2, f[2], 2, 'enc3');
  const c4 = residual(c3, f[3], 2, 'enc4');
  let x = aspp(c4, f[4], 'bridge');
  const stages: [SymbolicTensor, number][] = [
    [c3, f[3]],
    [c2, f[2]],
    [c1, f[1]],
  ];
  stages.forEach(([skip, filters], i) => {
    const name = `dec${3 - i}`;
    x = attention(skip, x, `${name}_att`);
    x = tfl.layers.upSampling2d({ size: [2, 2], name: `${name}_up` }).apply(x) as SymbolicTensor;
    x = residual(concat([x, skip], `${name}_concat`), filters, 1, name);
  });
  x = aspp(x, f[0], 'head_aspp');
  const output = conv(x, outputs, 'head', { kernel: 1, activation: 'sigmoid' });
  return tfl.model({ inputs: input, outputs: output, name: 'resunetpp' });
}
