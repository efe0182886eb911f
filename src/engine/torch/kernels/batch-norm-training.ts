/**
 * Batch normalisation in training, forward and backward, as ATen's fused native_batch_norm(_backward): one pass
 * each over channels-last data. tfjs computes it from moments and a dozen element-wise ops per direction, which
 * cost a U-Net step more than all its ReLUs and pooling together. The op and its gradient are defined in
 * engine/batch-norm-training.ts; these are the torch backend's kernels for it.
 */
import { aten } from '../aten.js';
import { kernel, permute, reshape, type NativeTensor } from '../kernel-util.js';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from '../../batch-norm-training.js';

const nativeBatchNorm = aten('native_batch_norm');
const nativeBatchNormBackward = aten('native_batch_norm_backward');
const pow = aten('pow', 'Tensor_Scalar');
const subScalar = aten('sub', 'Scalar');

const toNCHW = (t: NativeTensor) => permute(t, [0, 3, 1, 2]);
const toNHWC = (t: NativeTensor) => permute(t, [0, 2, 3, 1]);

/** x [N,H,W,C], gamma and beta [C] -> y, the batch mean, the biased batch variance and 1 / sqrt(var + eps). */
export const batchNormTrainingKernel = kernel(BATCH_NORM_TRAINING, ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs;
  const epsilon = attrs!.epsilon as number;
  const c = x.shape[3];
  const [y, mean, invstd] = nativeBatchNorm(toNCHW(backend.tensor(x)), reshape(backend.tensor(gamma), [c]),
    reshape(backend.tensor(beta), [c]), null, null, true, 0, epsilon) as NativeTensor[];
  // The variance for the moving average, recovered from what the kernel kept: invstd^-2 - eps.
  const variance = subScalar(pow(invstd, -2), epsilon, 1) as NativeTensor;
  return [backend.output(toNHWC(y), 'float32'), backend.output(mean, 'float32'), backend.output(variance, 'float32'), backend.output(invstd, 'float32')];
});

/** dy, x [N,H,W,C], gamma, the forward's mean and invstd [C] -> dx, dgamma, dbeta. */
export const batchNormTrainingGradKernel = kernel(BATCH_NORM_TRAINING_GRAD, ({ inputs, backend, attrs }) => {
  const { dy, x, gamma, mean, invstd } = inputs;
  const epsilon = attrs!.epsilon as number;
  const [dx, dgamma, dbeta] = nativeBatchNormBackward(toNCHW(backend.tensor(dy)), toNCHW(backend.tensor(x)),
    backend.tensor(gamma), null, null, backend.tensor(mean), backend.tensor(invstd), true, epsilon, [true, true, true]) as NativeTensor[];
  return [backend.output(toNHWC(dx), 'float32'), backend.output(dgamma, 'float32'), backend.output(dbeta, 'float32')];
});
