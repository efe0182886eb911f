/** BatchMatMul and _FusedMatMul (bias + activation), with tfjs's batch broadcasting (as aten::matmul). */
import type { BatchMatMulAttrs, TensorInfo, _FusedMatMulAttrs } from '@tensorflow/tfjs-core';
import { aten1 } from '../aten.js';
import { add, applyActivation, kernel, type NativeTensor } from '../kernel-util.js';
import type { TorchBackend } from '../torch-backend.js';
import { UseFallback } from '../use-fallback.js';

const matmul = aten1('matmul');
const transpose = aten1('transpose', 'int');

function mm(backend: TorchBackend, a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean): NativeTensor {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new UseFallback(`${a.dtype} matmul`);
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new Error(`matMul needs tensors of rank >= 2, got shapes [${a.shape}] and [${b.shape}]; reshape vectors to matrices first`);
  }
  let ha = backend.tensor(a);
  let hb = backend.tensor(b);
  if (ta) ha = transpose(ha, -2, -1);
  if (tb) hb = transpose(hb, -2, -1);
  return matmul(ha, hb);
}

export const batchMatMulKernel = kernel('BatchMatMul', ({ inputs, backend, attrs }) => {
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  return backend.output(mm(backend, a, b, transposeA, transposeB), 'float32');
});

export const fusedMatMulKernel = kernel('_FusedMatMul', ({ inputs, backend, attrs }) => {
  const { a, b, bias, preluActivationWeights } = inputs;
  const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as _FusedMatMulAttrs;
  let y = mm(backend, a, b, transposeA, transposeB);
  if (bias != null) y = add(y, backend.tensor(bias));
  return backend.output(applyActivation(backend, y, activation, preluActivationWeights, leakyreluAlpha), 'float32');
});
