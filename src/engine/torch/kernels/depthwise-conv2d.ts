/** DepthwiseConv2dNative, its two backprops and FusedDepthwiseConv2D: grouped ATen convolutions (groups = C). */
import { backend_util, util, type DepthwiseConv2dNativeAttrs, type DepthwiseConv2dNativeBackpropFilterAttrs, type DepthwiseConv2dNativeBackpropInputAttrs, type FusedDepthwiseConv2DAttrs } from '@tensorflow/tfjs-core';
import { add, applyActivation, kernel, reshape } from '../kernel-util.js';
import { conv2dGradInput, conv2dGradWeight, conv2dNCHW, filterFromOIHW, inputNCHW, oihwShape, outputLayout, weightOIHW } from './conv-util.js';

type S4 = [number, number, number, number];

export const depthwiseConv2dKernel = kernel('DepthwiseConv2dNative', ({ inputs, backend, attrs }) => {
  const { x, filter } = inputs;
  const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as DepthwiseConv2dNativeAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as S4, filter.shape as S4, strides, dilations ?? 1, pad,
    dimRoundingMode, true);
  const y = conv2dNCHW(inputNCHW(backend.tensor(x), info), weightOIHW(backend.tensor(filter), info, true), null, info, info.inChannels);
  return backend.output(outputLayout(y, info), 'float32');
});

export const fusedDepthwiseConv2dKernel = kernel('FusedDepthwiseConv2D', ({ inputs, backend, attrs }) => {
  const { x, filter, bias, preluActivationWeights } = inputs;
  const { strides, pad, dilations, dimRoundingMode, activation, leakyreluAlpha } = attrs as unknown as FusedDepthwiseConv2DAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as S4, filter.shape as S4, strides, dilations ?? 1, pad,
    dimRoundingMode, true);
  const perChannel = bias != null && util.sizeFromShape(bias.shape) === info.outChannels;
  const b = perChannel ? reshape(backend.tensor(bias), [info.outChannels]) : null;
  let y = outputLayout(conv2dNCHW(inputNCHW(backend.tensor(x), info), weightOIHW(backend.tensor(filter), info, true), b, info, info.inChannels), info);
  if (bias != null && !perChannel) y = add(y, backend.tensor(bias));
  return backend.output(applyActivation(backend, y, activation, preluActivationWeights, leakyreluAlpha), 'float32');
});

export const depthwiseBackpropInputKernel = kernel('DepthwiseConv2dNativeBackpropInput', ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs;
  const { strides, pad, dilations, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as S4, strides, dilations, pad, dimRoundingMode, true);
  const dx = conv2dGradInput(inputNCHW(backend.tensor(dy), info), weightOIHW(backend.tensor(filter), info, true), info, info.inChannels);
  return backend.output(outputLayout(dx, info), 'float32');
});

export const depthwiseBackpropFilterKernel = kernel('DepthwiseConv2dNativeBackpropFilter', ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(x.shape as S4, filterShape, strides, dilations, pad, dimRoundingMode, true);
  const g = conv2dGradWeight(inputNCHW(backend.tensor(x), info), inputNCHW(backend.tensor(dy), info), oihwShape(info, true), info, info.inChannels);
  return backend.output(filterFromOIHW(g, info, true), 'float32');
});
