/**
 * Batch normalisation in training as one op with its own gradient, for engines that have a fused kernel for it
 * (torch: ATen's native_batch_norm and its backward). Same results as tfjs-layers' moments + batchNorm, in two
 * kernel calls instead of a few dozen. Other engines keep tfjs's own path (see `hasFusedBatchNormTraining`).
 */
import { type NamedAttrMap, type Tensor, engine, getKernel, registerGradient } from '@tensorflow/tfjs-core';

export const BATCH_NORM_TRAINING = 'StsBatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD = 'StsBatchNormTrainingGrad';

/** True when the active backend has the fused kernels. */
export function hasFusedBatchNormTraining(): boolean {
  const backend = engine().backendName;
  return getKernel(BATCH_NORM_TRAINING, backend) !== undefined && getKernel(BATCH_NORM_TRAINING_GRAD, backend) !== undefined;
}

/** x [N,H,W,C] normalised by its own batch statistics, then scaled and shifted: y, the mean and the (biased) variance. */
export function batchNormTraining(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): { y: Tensor; mean: Tensor; variance: Tensor } {
  const [y, mean, variance] = engine().runKernel(BATCH_NORM_TRAINING, { x, gamma, beta }, { epsilon } as unknown as NamedAttrMap) as Tensor[];
  return { y, mean, variance };
}

registerGradient({
  kernelName: BATCH_NORM_TRAINING,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, false, true],
  gradFunc: (dys, saved, attrs) => {
    const [x, gamma, mean, invstd] = saved;
    // Only y feeds the loss; mean and variance go to the moving averages, so their gradients are zeros.
    const dy = (dys as Tensor[])[0];
    // All three gradients come from one kernel call, made here rather than in the thunks (each thunk runs in its
    // own tidy, which would dispose the other two).
    const [dx, dgamma, dbeta] = engine().runKernel(BATCH_NORM_TRAINING_GRAD, { dy, x, gamma, mean, invstd }, attrs) as Tensor[];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
});
