/** Conv2D: x [N,H,W,C] (or NCHW) * filter [kh,kw,in,out]. */
import { backend_util, type Conv2DAttrs } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel-util.js';
import { conv2dNCHW, convolutionWeight, inputNCHW, outputLayout } from './conv-util.js';

export const conv2dKernel = kernel('Conv2D', ({ inputs, backend, attrs }) => {
  const { x, filter } = inputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, false,
    backend_util.convertConv2DDataFormat(dataFormat));
  const w = convolutionWeight(backend, filter, info, 1, false);
  const input = w.bfloat16 ? backend.storedTensor(x) : backend.tensor(x);
  const y = conv2dNCHW(inputNCHW(input, info), w, null, info, 1);
  return backend.output(outputLayout(y, info), 'float32', w.bfloat16);
});
