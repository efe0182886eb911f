/** Conv2DBackpropInput: dx of Conv2D; also tfjs's conv2dTranspose. */
import { backend_util, type Conv2DBackpropInputAttrs } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel-util.js';
import { blockTransposedConvBfloat16, conv2dGradInput, inputNCHW, isBlockTransposed, outputLayout, weightOIHW } from './conv-util.js';

export const conv2dBackpropInputKernel = kernel('Conv2DBackpropInput', ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs;
  const { inputShape, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides,
    1, pad, dimRoundingMode, false, backend_util.convertConv2DDataFormat(dataFormat));
  if (isBlockTransposed(info) && filter.dtype === 'float32') {
    const y = blockTransposedConvBfloat16(backend, dy, filter);
    if (y !== null) return backend.output(y, 'float32', true);
  }
  const dx = conv2dGradInput(inputNCHW(backend.tensor(dy), info), weightOIHW(backend.tensor(filter), info, false), info, 1);
  return backend.output(outputLayout(dx, info), 'float32');
});
