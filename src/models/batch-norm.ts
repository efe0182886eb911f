/**
 * tfjs-layers' BatchNormalization with a fused training path: on an engine with fused kernels (torch), a training
 * call is one op forward and one backward (see engine/batch-norm-training.ts) instead of moments and a dozen
 * element-wise ops each way. Inference, other engines and other layouts run the base class unchanged. It keeps the
 * base class's name, so saved models stay plain tfjs models (the browser loads them as BatchNormalization), and it
 * is registered under that name so that models loaded here (a resumed run) get the fused path too.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { batchNorm, moments, mul, serialization, sub, tidy } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BatchNormalization } from '@tensorflow/tfjs-layers/dist/layers/normalization.js';
import { batchNormTraining, hasFusedBatchNormTraining } from '../engine/batch-norm-training.js';

type Kwargs = Parameters<BatchNormalization['call']>[1];

/** The base class's private state this subclass reads. */
interface Internals {
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly gamma: tfl.LayerVariable;
  readonly beta: tfl.LayerVariable;
  readonly movingMean: tfl.LayerVariable;
  readonly movingVariance: tfl.LayerVariable;
}

const Base = tfl.layers.batchNormalization({}).constructor as typeof BatchNormalization;

export class FusedBatchNormalization extends Base {
  /**
   * Track the unbiased batch variance (n / (n - 1) times the biased one) in the moving variance, as PyTorch's
   * BatchNorm2d does; tfjs-layers tracks the biased one. Normalisation in training uses the biased variance either
   * way (both frameworks do). A training setting, not saved with the model: the trainer sets it (`setBatchNormVariance`).
   */
  unbiasedVariance = false;

  override call(inputs: tfc.Tensor | tfc.Tensor[], kwargs: Kwargs): tfc.Tensor | tfc.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const self = this as unknown as Internals;
    const lastAxis = self.axis === -1 || self.axis === x.rank - 1;
    if (!kwargs.training || x.rank !== 4 || !lastAxis || !self.center || !self.scale) return super.call(inputs, kwargs);
    return tidy(() => {
      const gamma = self.gamma.read();
      const beta = self.beta.read();
      const { y, mean, variance } = hasFusedBatchNormTraining()
        ? batchNormTraining(x, gamma, beta, self.epsilon)
        : unfusedTraining(x, gamma, beta, self.epsilon);
      const [batch, height, width] = x.shape as number[];
      const n = batch * height * width;
      const tracked = this.unbiasedVariance && n > 1 ? mul(variance, n / (n - 1)) : variance;
      // The moving statistics move as in the base class: m <- m - (m - batch) * (1 - momentum).
      for (const [moving, observed] of [[self.movingMean, mean], [self.movingVariance, tracked]] as const) {
        tidy(() => {
          const m = moving.read();
          moving.write(sub(m, mul(sub(m, observed), 1 - self.momentum)));
        });
      }
      return y;
    });
  }
}

/** What tfjs-layers computes in training (moments over N, H, W, then batchNorm), for engines without the fused kernel. */
function unfusedTraining(x: tfc.Tensor, gamma: tfc.Tensor, beta: tfc.Tensor, epsilon: number) {
  const { mean, variance } = moments(x, [0, 1, 2]);
  return { y: batchNorm(x, mean, variance, beta, gamma, epsilon), mean, variance };
}

/** Sets how every batch norm layer of `model` tracks its moving variance in training (see `unbiasedVariance`). */
export function setBatchNormVariance(model: tfl.LayersModel, variance: 'unbiased' | 'biased'): void {
  for (const layer of model.layers) if (layer instanceof FusedBatchNormalization) layer.unbiasedVariance = variance === 'unbiased';
}

serialization.registerClass(FusedBatchNormalization);
