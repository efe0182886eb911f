/**
 * The number format of inference convolutions on `torch`. `bfloat16` runs each convolution whose filter is reused
 * (inference: the same weights image after image) in bfloat16 through oneDNN, and the U-Net's transposed
 * convolutions as bfloat16 matrix products. Their results stay bfloat16 through the kernels that pass activations
 * between convolutions (bias, ReLU, max pooling, concat, sums), so no convolution casts its input; tfjs still sees
 * float32 tensors, and every other kernel and every read gets float32 (see TorchBackend's `storedTensor`). On CPUs
 * with AVX512-BF16 that is about twice the float32 throughput; outputs differ from float32 by about 0.5% of their
 * range per convolution (bfloat16 keeps 8 bits of mantissa). Training never takes this path: each step's filters
 * are new tensors, used once.
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
