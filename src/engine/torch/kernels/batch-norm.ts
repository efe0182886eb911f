/**
 * FusedBatchNorm (inference form; tfjs differentiates it through other ops): one aten::batch_norm pass when
 * mean, variance, scale and offset are per-channel vectors, else broadcasting element-wise ops.
 */
import { util, type FusedBatchNormAttrs } from '@tensorflow/tfjs-core';
import { aten1 } from '../aten.js';
import { add, addScalar, kernel, mul, permute, reshape, sub, type NativeTensor } from '../kernel-util.js';

const batchNorm = aten1('batch_norm');
const rsqrt = aten1('rsqrt');

export const fusedBatchNormKernel = kernel('FusedBatchNorm', ({ inputs, backend, attrs }) => {
  const { x, mean, variance, offset, scale } = inputs;
  const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
  const rank = x.shape.length;
  const c = x.shape[rank - 1];
  const vec = (t: typeof x | undefined) => t == null || (util.sizeFromShape(t.shape) === c && t.shape.length >= 1);
  const xh = backend.tensor(x);
  if (rank >= 2 && c > 0 && vec(mean) && vec(variance) && vec(offset) && vec(scale)) {
    const v = (t: typeof x | undefined): NativeTensor | null => (t == null ? null : reshape(backend.tensor(t), [c]));
    // [N, ..., C] -> [N, C, ...] view (channels-last strides for 4-D)
    const perm = [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
    const back = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
    const y = batchNorm(permute(xh, perm), v(scale), v(offset), v(mean), v(variance), false, 0, varianceEpsilon, false);
    return backend.output(permute(y, back), 'float32');
  }
  let inv = rsqrt(addScalar(backend.tensor(variance), varianceEpsilon));
  if (scale != null) inv = mul(inv, backend.tensor(scale));
  let y = mul(sub(xh, backend.tensor(mean)), inv);
  if (offset != null) y = add(y, backend.tensor(offset));
  return backend.output(y, 'float32');
});
