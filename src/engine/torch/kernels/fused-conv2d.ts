/** FusedConv2D: Conv2D + bias + activation (tfjs-layers' Conv2D with useBias goes here). */
import { backend_util, type FusedConv2DAttrs } from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { add, applyActivation, kernel, reshape } from '../kernel-util.js';
import { toDtype } from '../aten.js';
import { conv2dNCHW, convolutionWeight, inputNCHW, outputLayout } from './conv-util.js';

export const fusedConv2dKernel = kernel('FusedConv2D', ({ inputs, backend, attrs }) => {
  const { x, filter, bias, preluActivationWeights } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha } = attrs as unknown as FusedConv2DAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat));
  const perChannel = bias != null && util.sizeFromShape(bias.shape) === info.outChannels;
  const b = perChannel ? reshape(backend.tensor(bias), [info.outChannels]) : null;
  const w = convolutionWeight(backend, filter, info, 1, false);
  const input = w.bfloat16 ? backend.storedTensor(x) : backend.tensor(x);
  let y = outputLayout(conv2dNCHW(inputNCHW(input, info), w, b, info, 1), info);
  // A bfloat16 result stays bfloat16 through a bias and the activations ATen computes in any float type; prelu's
  // weights are float32, so it is computed in float32.
  const bfloat16 = w.bfloat16 && activation !== 'prelu';
  if (w.bfloat16 && !bfloat16) y = toDtype(y, backend.code('float32'));
  if (bias != null && !perChannel) y = add(y, backend.tensor(bias));
  y = applyActivation(backend, y, activation, preluActivationWeights, leakyreluAlpha);
  return backend.output(y, 'float32', bfloat16);
});
