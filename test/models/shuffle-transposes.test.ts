import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transposesAsShuffles } from '../../src/models/shuffle-transposes.js';
import { createModel } from '../../src/models/index.js';
import { modelNetwork } from '../../src/pipeline/model-network.js';
import type { Raster } from '../../src/geometry/raster.js';
import { tf } from '../support/engine.js';

/** Transposed-convolution kernels and biases far from their initialisation, as after training. */
function perturbTransposes(model: ReturnType<typeof createModel>, seed: number): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Conv2DTranspose') continue;
    const next = layer.getWeights().map((w, i) => tf.randomUniform(w.shape, -0.5, 0.5, 'float32', seed + i));
    layer.setWeights(next);
    tf.dispose(next);
    seed += 7;
  }
}

describe('transposesAsShuffles', () => {
  it("the U-Net's 2 x 2 stride 2 up-convolutions become 1 x 1 convolutions + pixel shuffles with the same output", async () => {
    const model = createModel({ name: 'unet', size: 32, channels: 3, features: 4 }, { seed: 3 });
    perturbTransposes(model, 11);
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5);
    // Compared before the final sigmoid, which can saturate.
    const beforeSigmoid = (m: typeof model) => tf.model({ inputs: m.inputs, outputs: m.layers[m.layers.length - 1].input as tf.SymbolicTensor });
    const want = tf.tidy(() => beforeSigmoid(model).predict(x) as tf.Tensor);
    const { model: copy, replaced } = await transposesAsShuffles(model);
    assert.equal(replaced, 4);
    assert.deepEqual(copy.layers.filter((l) => l.getClassName() === 'Conv2DTranspose').map((l) => l.name), []);
    const got = tf.tidy(() => beforeSigmoid(copy).predict(x) as tf.Tensor);
    assert.deepEqual(got.shape, want.shape);
    const scale = tf.tidy(() => tf.max(tf.abs(want)).dataSync()[0]);
    const rel = tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]) / scale;
    assert.ok(scale > 0 && rel < 1e-5, `max |difference| ${rel} of the largest value ${scale}`);
    // The original is untouched.
    assert.equal(model.layers.filter((l) => l.getClassName() === 'Conv2DTranspose').length, 4);
    tf.dispose([x, want, got]);
    copy.dispose();
    model.dispose();
  });

  it('leaves a model without such layers as it is', async () => {
    const model = createModel({ name: 'deeplabv3plus', size: 32, channels: 3 }, { seed: 1 });
    const { model: same, replaced } = await transposesAsShuffles(model);
    assert.equal(replaced, 0);
    assert.equal(same, model);
    model.dispose();
  });

  it('modelNetwork gives the same maps with and without it (fold on)', async () => {
    const model = createModel({ name: 'unet', size: 32, channels: 1, features: 4 }, { seed: 9 });
    perturbTransposes(model, 4);
    const inputs: Raster<Float32Array>[] = [0, 1, 2].map((k) => ({ width: 32, height: 32, channels: 1, data: tf.randomUniform([32 * 32], 0, 1, 'float32', k).dataSync() as Float32Array }));
    const plain = modelNetwork(model, { shuffleTransposes: false });
    const shuffled = modelNetwork(model, { shuffleTransposes: true });
    const [a, b] = [await plain(inputs), await shuffled(inputs)];
    let diff = 0;
    a.forEach((m, i) => Array.from(m).forEach((v, j) => (diff = Math.max(diff, Math.abs(v - b[i][j])))));
    assert.ok(diff < 1e-5, `max |difference| of the maps ${diff}`);
    plain.dispose();
    shuffled.dispose();
    model.dispose();
  });
});
