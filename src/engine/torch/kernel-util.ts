/** Helpers shared by the torch kernels. */
import type { DataType, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { aten1 } from './aten.js';
import type { TorchBackend } from './torch-backend.js';
import type { NativeTensor } from './native.js';

/** Inputs typed as present; optional ones (bias, prelu weights) are checked with `!= null`. */
export type TorchKernelArgs = { inputs: Record<string, TensorInfo>; backend: TorchBackend; attrs?: NamedAttrMap };
export type TorchKernelFunc = (args: TorchKernelArgs) => TensorInfo | TensorInfo[];

/** A native kernel: its function gets the torch backend; `fallback` runs the cpu kernel instead (see fallback.ts). */
export interface TorchKernel {
  kernelName: string;
  kernelFunc: TorchKernelFunc;
}

export const permute = aten1('permute');
export const contiguous = aten1('contiguous');
export const constantPad = aten1('constant_pad_nd');
export const narrow = aten1('narrow');
export const add = aten1('add', 'Tensor');
export const sub = aten1('sub', 'Tensor');
export const mul = aten1('mul', 'Tensor');
export const mulScalar = aten1('mul', 'Scalar');
export const addScalar = aten1('add', 'Scalar');
export const div = aten1('div', 'Tensor');
export const where = aten1('where', 'self');
export const gtScalar = aten1('gt', 'Scalar');
export const reshape = aten1('reshape');
export const empty = aten1('empty', 'memory_format');
export const fullOp = aten1('full');
export const clamp = aten1('clamp');
export const sigmoid = aten1('sigmoid');
export const relu = aten1('relu');
const reluInPlace = aten1('relu_');
export const elu = aten1('elu');
export const leakyRelu = aten1('leaky_relu');

/** NHWC (as tfjs stores) to an NCHW view with channels-last strides, and back. */
export const nchw = (t: NativeTensor): NativeTensor => permute(t, [0, 3, 1, 2]);
export const nhwc = (t: NativeTensor): NativeTensor => permute(t, [0, 2, 3, 1]);

/** A constant tensor. */
export function scalarTensor(value: number, dtype: number): NativeTensor {
  return fullOp([], value, dtype);
}

/**
 * A tfjs fused activation applied natively. `y` must be the kernel's own fresh result (no other tensor shares its
 * memory): ReLU, the common case, is applied in place, which saves a pass that allocates and writes a new tensor.
 */
export function applyActivation(
  backend: TorchBackend,
  y: NativeTensor,
  activation: string | undefined,
  preluWeights: TensorInfo | undefined,
  leakyreluAlpha: number | undefined,
): NativeTensor {
  switch (activation ?? 'linear') {
    case 'linear':
      return y;
    case 'relu':
      return reluInPlace(y);
    case 'relu6':
      return clamp(y, 0, 6);
    case 'elu':
      return elu(y);
    case 'sigmoid':
      return sigmoid(y);
    case 'leakyrelu':
      return leakyRelu(y, leakyreluAlpha ?? 0.2);
    case 'prelu': {
      const a = backend.tensor(preluWeights!);
      return where(gtScalar(y, 0), y, mul(y, a));
    }
    default:
      throw new Error(`unknown fused activation '${activation}'; use linear, relu, relu6, elu, sigmoid, leakyrelu or prelu`);
  }
}

/** Wraps a function of (TensorInfo inputs, attrs, backend) as a kernel config for the torch backend. */
export function kernel(kernelName: string, kernelFunc: TorchKernelFunc): TorchKernel {
  return { kernelName, kernelFunc };
}

export type { DataType, KernelConfig, KernelFunc, NativeTensor };
