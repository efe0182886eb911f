/** MaxPool, MaxPoolGrad, AvgPool, AvgPoolGrad on NHWC via channels-last ATen views. */
import { backend_util, type AvgPoolAttrs, type AvgPoolGradAttrs, type MaxPoolAttrs, type MaxPoolGradAttrs } from '@tensorflow/tfjs-core';
import { aten } from '../aten.js';
import { constantPad, kernel, narrow, nchw, nhwc, type NativeTensor } from '../kernel-util.js';
import { UseFallback } from '../use-fallback.js';

type S4 = [number, number, number, number];
const maxPoolIdx = aten('max_pool2d_with_indices');
const maxPoolIdxBackward = aten('max_pool2d_with_indices_backward');
const avgPool = aten('avg_pool2d');
const avgPoolBackward = aten('avg_pool2d_backward');

function poolInfo(shape: number[], a: MaxPoolAttrs | AvgPoolAttrs) {
  // Rounding modes and explicit numeric padding keep tfjs's exact (cpu) semantics through the fallback.
  if (a.dimRoundingMode != null || typeof a.pad === 'number') throw new UseFallback('dimRoundingMode / numeric pad');
  return backend_util.computePool2DInfo(shape as S4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
}

/** Pads with -inf when ATen cannot pad the way tfjs does (asymmetric, or more than half the window). */
function maxPoolGeometry(x: NativeTensor, info: backend_util.Conv2DInfo) {
  const { top, bottom, left, right } = info.padInfo;
  const symmetric = top === bottom && left === right && top <= info.filterHeight / 2 && left <= info.filterWidth / 2;
  if (symmetric) return { x, pad: [top, left], explicit: false };
  return { x: constantPad(x, [left, right, top, bottom], -Infinity), pad: [0, 0], explicit: true };
}

function runMaxPool(x: NativeTensor, info: backend_util.Conv2DInfo) {
  const g = maxPoolGeometry(x, info);
  const [y, idx] = maxPoolIdx(g.x, [info.filterHeight, info.filterWidth], [info.strideHeight, info.strideWidth],
    g.pad, [1, 1], false) as NativeTensor[];
  return { y, idx, g };
}

export const maxPoolKernel = kernel('MaxPool', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const info = poolInfo(x.shape, attrs as unknown as MaxPoolAttrs);
  if (info.filterWidth === 1 && info.filterHeight === 1 && info.strideHeight === 1 && info.strideWidth === 1) {
    return backend.output(backend.tensor(x), x.dtype);
  }
  // Pooling a bfloat16 inference activation keeps it bfloat16 (a maximum needs no more precision than its inputs).
  const bfloat16 = backend.isBfloat16(x);
  const { y } = runMaxPool(nchw(backend.storedTensor(x)), info);
  return backend.output(nhwc(y), x.dtype, bfloat16);
});

export const maxPoolGradKernel = kernel('MaxPoolGrad', ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs;
  const info = poolInfo(input.shape, attrs as unknown as MaxPoolGradAttrs);
  const { idx, g } = runMaxPool(nchw(backend.tensor(input)), info);
  let dx = maxPoolIdxBackward(nchw(backend.tensor(dy)), g.x, [info.filterHeight, info.filterWidth],
    [info.strideHeight, info.strideWidth], g.pad, [1, 1], false, idx) as NativeTensor;
  if (g.explicit) dx = narrow(narrow(dx, 2, info.padInfo.top, info.inHeight), 3, info.padInfo.left, info.inWidth);
  return backend.output(nhwc(dx), 'float32');
});

function avgSymmetric(info: backend_util.Conv2DInfo) {
  const { top, bottom, left, right } = info.padInfo;
  if (top !== bottom || left !== right || top > info.filterHeight / 2 || left > info.filterWidth / 2) {
    throw new UseFallback('asymmetric average-pool padding');
  }
  return [top, left];
}

export const avgPoolKernel = kernel('AvgPool', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const info = poolInfo(x.shape, attrs as unknown as AvgPoolAttrs);
  const pad = avgSymmetric(info);
  const y = avgPool(nchw(backend.tensor(x)), [info.filterHeight, info.filterWidth],
    [info.strideHeight, info.strideWidth], pad, false, false, null) as NativeTensor;
  return backend.output(nhwc(y), 'float32');
});

export const avgPoolGradKernel = kernel('AvgPoolGrad', ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs;
  const info = poolInfo(input.shape, attrs as unknown as AvgPoolGradAttrs);
  const pad = avgSymmetric(info);
  const dx = avgPoolBackward(nchw(backend.tensor(dy)), nchw(backend.tensor(input)), [info.filterHeight, info.filterWidth],
    [info.strideHeight, info.strideWidth], pad, false, false, null) as NativeTensor;
  return backend.output(nhwc(dx), 'float32');
});
