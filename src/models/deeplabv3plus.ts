/**
 * DeepLabv3+ (Chen et al., ECCV 2018) with a ResNet-34 encoder, as the paper uses it (trained from scratch):
 * ResNet-34 (basic blocks 3-4-6-3) with the last stage dilated for output stride 16; ASPP with a 1 x 1 branch, three
 * 3 x 3 atrous branches (rates 6, 12, 18) and image pooling, 256 channels each, projected to 256; a decoder that
 * upsamples by 4, concatenates the stride-4 features reduced to 48 channels, and refines with two 3 x 3 convs of 256;
 * a 1 x 1 head upsampled by 4 (bilinear) to the input, and a sigmoid.
 * 26,711,201 trainable parameters for 3 input channels (26,704,929 for 1) (see test/models/models.test.ts).
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { type SymbolicTensor, add, batchNorm, concat, conv, convBnRelu, relu } from './blocks.js';

export interface DeepLabV3PlusOptions {
  readonly size: number;
  readonly channels: number;
  /** Output maps: 1 (the foreground), or 2 (foreground and object cores, for instances: src/instances/). */
  readonly outputs?: number;
}

function basicBlock(x: SymbolicTensor, filters: number, strides: number, dilation: number, name: string): SymbolicTensor {
  let y = convBnRelu(x, filters, `${name}_1`, { strides, dilation: strides > 1 ? 1 : dilation });
  y = batchNorm(conv(y, filters, `${name}_2_conv`, { bias: false, dilation }), `${name}_2_bn`);
  const inChannels = x.shape[3] as number;
  const skip =
    strides > 1 || inChannels !== filters
      ? batchNorm(conv(x, filters, `${name}_down_conv`, { kernel: 1, strides, bias: false }), `${name}_down_bn`)
      : x;
  return relu(add([y, skip], `${name}_add`), `${name}_relu`);
}

function stage(x: SymbolicTensor, filters: number, blocks: number, strides: number, dilation: number, name: string): SymbolicTensor {
  for (let i = 0; i < blocks; i++) x = basicBlock(x, filters, i === 0 ? strides : 1, dilation, `${name}_${i + 1}`);
  return x;
}

function upsample(x: SymbolicTensor, factor: number, name: string): SymbolicTensor {
  return tfl.layers.upSampling2d({ size: [factor, factor], interpolation: 'bilinear', name }).apply(x) as SymbolicTensor;
}

export function deeplabv3plus({ size, channels, outputs = 1 }: DeepLabV3PlusOptions): tfl.LayersModel {
  const input = tfl.input({ shape: [size, size, channels], name: 'image' });
  // ResNet-34 stem: 7 x 7 stride-2 conv and 3 x 3 stride-2 max-pool (stride 4).
  let x = convBnRelu(input, 64, 'stem', { kernel: 7, strides: 2 });
  x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'stem_pool' }).apply(x) as SymbolicTensor;
  const low = stage(x, 64, 3, 1, 1, 'layer1'); // stride 4
  x = stage(low, 128, 4, 2, 1, 'layer2'); // stride 8
  x = stage(x, 256, 6, 2, 1, 'layer3'); // stride 16
  x = stage(x, 512, 3, 1, 2, 'layer4'); // stride 16, dilated

  const side = size / 16;
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'aspp_pool' }).apply(x) as SymbolicTensor;
  let image = tfl.layers.reshape({ targetShape: [1, 1, 512], name: 'aspp_pool_reshape' }).apply(pooled) as SymbolicTensor;
  image = convBnRelu(image, 256, 'aspp_pool_proj', { kernel: 1 });
  image = tfl.layers.upSampling2d({ size: [side, side], name: 'aspp_pool_up' }).apply(image) as SymbolicTensor;
  const branches = [
    convBnRelu(x, 256, 'aspp_1x1', { kernel: 1 }),
    ...[6, 12, 18].map((r) => convBnRelu(x, 256, `aspp_r${r}`, { dilation: r })),
    image,
  ];
  x = convBnRelu(concat(branches, 'aspp_concat'), 256, 'aspp_project', { kernel: 1 });

  x = upsample(x, 4, 'decoder_up');
  const lowProjected = convBnRelu(low, 48, 'decoder_low', { kernel: 1 });
  x = concat([x, lowProjected], 'decoder_concat');
  x = convBnRelu(x, 256, 'decoder_refine1');
  x = convBnRelu(x, 256, 'decoder_refine2');
  x = conv(x, outputs, 'head', { kernel: 1 });
  x = upsample(x, 4, 'head_up');
  const output = tfl.layers.activation({ activation: 'sigmoid', name: 'probability' }).apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'deeplabv3plus' });
}
