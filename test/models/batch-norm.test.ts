import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { FusedBatchNormalization, setBatchNormVariance } from '../../src/models/batch-norm.js';
import { FusedAdamOptimizer } from '../../src/train/adam.js';
import { tf } from '../support/engine.js';

/** One training call of a lone batch norm layer on x; returns its moving variance afterwards. */
function movingVarianceAfterOneStep(x: tf.Tensor4D, variance: 'unbiased' | 'biased'): Float32Array {
  const input = tfl.input({ shape: x.shape.slice(1) as number[] });
  const bn = new FusedBatchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 });
  const model = tfl.model({ inputs: input, outputs: bn.apply(input) as tfl.SymbolicTensor });
  setBatchNormVariance(model, variance);
  tf.tidy(() => model.apply(x, { training: true }) as tf.Tensor);
  const moving = bn.getWeights()[3].dataSync() as Float32Array;
  model.dispose();
  return moving;
}

describe('batch norm and Adam follow PyTorch under the pytorch defaults', () => {
  it('the moving variance tracks the unbiased batch variance (n / (n - 1)), or the biased one under tfjs', () => {
    // 2 x 2 x 2 x 2: per channel 8 values, channel 0 = 0..7, channel 1 = twice that.
    const values = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? i / 2 : i - 1));
    const x = tf.tensor4d(values, [2, 2, 2, 2]);
    const biased = [5.25, 21]; // population variance of 0..7 and of 0, 2, ..., 14
    const unbiased = biased.map((v) => (v * 8) / 7);
    const expect = (vars: number[]) => vars.map((v) => 0.9 * 1 + 0.1 * v);
    const got = movingVarianceAfterOneStep(x, 'unbiased');
    const gotBiased = movingVarianceAfterOneStep(x, 'biased');
    expect(unbiased).forEach((v, c) => assert.ok(Math.abs(got[c] - v) < 1e-4, `channel ${c}: ${got[c]} vs ${v}`));
    expect(biased).forEach((v, c) => assert.ok(Math.abs(gotBiased[c] - v) < 1e-4, `channel ${c}: ${gotBiased[c]} vs ${v}`));
    x.dispose();
  });

  it("Adam's epsilon is PyTorch's 1e-8 by default, the backend's under tfjs", () => {
    const torchLike = new FusedAdamOptimizer(0.01) as unknown as { epsilon: number };
    const tfjsLike = new FusedAdamOptimizer(0.01, null) as unknown as { epsilon: number };
    assert.equal(torchLike.epsilon, 1e-8);
    assert.equal(tfjsLike.epsilon, tf.backend().epsilon());
  });
});
