/** Conv2DBackpropFilter: dW of Conv2D. */
import { backend_util, type Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel-util.js';
import { conv2dGradWeight, filterFromOIHW, inputNCHW, oihwShape } from './conv-util.js';

export const conv2dBackpropFilterKernel = kernel('Conv2DBackpropFilter', ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1,
    pad, dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
  const g = conv2dGradWeight(inputNCHW(backend.tensor(x), info), inputNCHW(backend.tensor(dy), info),
    oihwShape(info, false), info, 1);
  return backend.output(filterFromOIHW(g, info, false), 'float32');
});
