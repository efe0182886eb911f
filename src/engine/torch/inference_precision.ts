/**
 * The number format of inference convolutions on `torch`. `bfloat16` runs each convolution whose filter is reused
 * (inference: the same weights image after image) in bfloat16 through oneDNN, with float32 in and out, so every
 * other kernel and everything tfjs sees stays float32. On CPUs with AVX512-BF16 that is about twice the convolution
 * throughput; outputs differ from float32 by about 0.5% of their range (bfloat16 keeps 8 bits of mantissa).
 * Training never takes this path: each step's filters are new tensors, used once.
 */
export type InferencePrecision = 'float32' | 'bfloat16';
export const INFERENCE_PRECISIONS: readonly InferencePrecision[] = ['float32', 'bfloat16'];

let current: InferencePrecision = 'float32';

export function setInferencePrecision(p: InferencePrecision): void {
  current = p;
}

export function inferencePrecision(): InferencePrecision {
  return current;
}
