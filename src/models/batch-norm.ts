/**
 * tfjs-layers' BatchNormalization with a fused training path: on an engine with fused kernels (torch), a training
 * call is one op forward and one backward (see engine/batch-norm-training.ts) instead of moments and a dozen
 * element-wise ops each way. Inference, other engines and other layouts run the base class unchanged. It keeps the
 * base class's name, so saved models stay plain tfjs models (the browser loads them as BatchNormalization), and it
 * is registered under that name so that models loaded here (a resumed run) get the fused path too.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { mul, serialization, sub, tidy } from '@tensorflow/tfjs-core';
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
  override call(inputs: tfc.Tensor | tfc.Tensor[], kwargs: Kwargs): tfc.Tensor | tfc.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const self = this as unknown as Internals;
    const lastAxis = self.axis === -1 || self.axis === x.rank - 1;
    if (!kwargs.training || x.rank !== 4 || !lastAxis || !self.center || !self.scale || !hasFusedBatchNormTraining()) {
      return super.call(inputs, kwargs);
    }
    return tidy(() => {
      const { y, mean, variance } = batchNormTraining(x, self.gamma.read(), self.beta.read(), self.epsilon);
      // The moving statistics move as in the base class: m <- m - (m - batch) * (1 - momentum).
      for (const [moving, batch] of [[self.movingMean, mean], [self.movingVariance, variance]] as const) {
        tidy(() => {
          const m = moving.read();
          moving.write(sub(m, mul(sub(m, batch), 1 - self.momentum)));
        });
      }
      return y;
    });
  }
}

serialization.registerClass(FusedBatchNormalization);
