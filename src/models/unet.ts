/**
 * The reference implementation's U-Net (Ronneberger et al. 2015 as in its `unet_plain.py`): 32 initial features,
 * four 2 x 2 max-poolings, blocks of [3 x 3 conv without bias, batch norm, ReLU] x 2, 2 x 2 stride-2 transposed
 * convolutions, skip concatenation (upsampled first, then the skip, as torch.cat there), 1 x 1 conv and sigmoid.
 * 7,763,041 trainable parameters for 3 input channels, 7,762,465 for 1.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { type SymbolicTensor, concat, conv, convBnRelu, layerInit } from './blocks.js';

export interface UNetOptions {
  readonly size: number;
  readonly channels: number;
  readonly features?: number;
  /** Output maps: 1 (the foreground), or 2 (foreground and object cores, for instances: src/instances/). */
  readonly outputs?: number;
}

function block(x: SymbolicTensor, filters: number, name: string): SymbolicTensor {
  return convBnRelu(convBnRelu(x, filters, `${name}_1`), filters, `${name}_2`);
}

export function unet({ size, channels, features = 32, outputs = 1 }: UNetOptions): tfl.LayersModel {
  const input = tfl.input({ shape: [size, size, channels], name: 'image' });
  const widths = [features, features * 2, features * 4, features * 8];
  const skips: SymbolicTensor[] = [];
  let x: SymbolicTensor = input;
  widths.forEach((w, i) => {
    x = block(x, w, `enc${i + 1}`);
    skips.push(x);
    x = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` }).apply(x) as SymbolicTensor;
  });
  x = block(x, features * 16, 'bottleneck');
  for (let i = 3; i >= 0; i--) {
    const up = tfl.layers
      // PyTorch's fan_in of a transposed convolution: its output channels x kernel area.
      .conv2dTranspose({ filters: widths[i], kernelSize: 2, strides: 2, padding: 'valid', ...layerInit(widths[i] * 4), name: `upconv${i + 1}` })
      .apply(x) as SymbolicTensor;
    x = block(concat([up, skips[i]], `skip${i + 1}`), widths[i], `dec${i + 1}`);
  }
  const output = conv(x, outputs, 'head', { kernel: 1, activation: 'sigmoid', head: true });
  return tfl.model({ inputs: input, outputs: output, name: 'unet' });
}
