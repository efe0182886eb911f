/** The torch backend's native kernel table (everything else runs through the cpu fallback). */
import type { TorchKernel } from '../kernel-util.js';
import { batchMatMulKernel, fusedMatMulKernel } from './matmul.js';
import { binaryKernels } from './binary.js';
import { conv2dKernel } from './conv2d.js';
import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterKernel, depthwiseBackpropInputKernel, depthwiseConv2dKernel, fusedDepthwiseConv2dKernel } from './depthwise-conv2d.js';
import { fusedBatchNormKernel } from './batch-norm.js';
import { batchNormTrainingGradKernel, batchNormTrainingKernel } from './batch-norm-training.js';
import { adamUpdateKernel } from './adam.js';
import { loadNative } from '../native.js';
import { fusedConv2dKernel } from './fused-conv2d.js';
import { addNKernel, complexAbsKernel, complexKernel, eluGradKernel, fillKernel, imagKernel, oneHotKernel, onesLikeKernel, preluKernel, realKernel, selectKernel, softmaxKernel, zerosLikeKernel } from './misc.js';
import { avgPoolGradKernel, avgPoolKernel, maxPoolGradKernel, maxPoolKernel } from './pool.js';
import { argKernels, reduceKernels } from './reduce.js';
import { expandDimsKernel, identityKernel, reshapeKernel } from './reshape.js';
import { resizeBilinearGradKernel, resizeBilinearKernel, resizeNearestGradKernel, resizeNearestKernel } from './resize.js';
import { broadcastToKernel, castKernel, concatKernel, gatherV2Kernel, packKernel, padKernel, reverseKernel, sliceKernel, splitVKernel, tileKernel, transposeKernel, unpackKernel } from './shape-ops.js';
import { unaryKernels } from './unary.js';

export const nativeKernels: TorchKernel[] = [
  conv2dKernel,
  conv2dBackpropInputKernel,
  conv2dBackpropFilterKernel,
  fusedConv2dKernel,
  depthwiseConv2dKernel,
  fusedDepthwiseConv2dKernel,
  depthwiseBackpropInputKernel,
  depthwiseBackpropFilterKernel,
  maxPoolKernel,
  maxPoolGradKernel,
  avgPoolKernel,
  avgPoolGradKernel,
  fusedBatchNormKernel,
  batchNormTrainingKernel,
  batchNormTrainingGradKernel,
  // An addon built before the fused Adam leaves the optimizer on tfjs's own update.
  ...(loadNative()?.adamStep ? [adamUpdateKernel] : []),
  batchMatMulKernel,
  fusedMatMulKernel,
  ...unaryKernels,
  ...binaryKernels,
  ...reduceKernels,
  ...argKernels,
  reshapeKernel,
  expandDimsKernel,
  identityKernel,
  castKernel,
  transposeKernel,
  concatKernel,
  sliceKernel,
  padKernel,
  tileKernel,
  reverseKernel,
  broadcastToKernel,
  packKernel,
  unpackKernel,
  splitVKernel,
  gatherV2Kernel,
  selectKernel,
  fillKernel,
  zerosLikeKernel,
  onesLikeKernel,
  complexKernel,
  realKernel,
  imagKernel,
  complexAbsKernel,
  addNKernel,
  oneHotKernel,
  softmaxKernel,
  preluKernel,
  eluGradKernel,
  resizeNearestKernel,
  resizeNearestGradKernel,
  resizeBilinearKernel,
  resizeBilinearGradKernel,
];
