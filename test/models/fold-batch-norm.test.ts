import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldBatchNorm } from '../../src/models/fold-batch-norm.js';
import { createModel, MODEL_NAMES } from '../../src/models/index.js';
import { tf } from '../support/engine.js';

/** Batch norms with statistics and affine parameters far from the identity, as after training. */
function perturbBatchNorms(model: ReturnType<typeof createModel>, seed: number): void {
  let k = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const ws = layer.getWeights();
    // gamma, beta, moving mean, moving variance
    const ranges = [[0.5, 1.5], [-0.3, 0.3], [-0.3, 0.3], [0.5, 2]];
    const next = ws.map((w, i) => tf.randomUniform(w.shape, ranges[i][0], ranges[i][1], 'float32', k++));
    layer.setWeights(next);
    tf.dispose(next);
  }
}

describe('foldBatchNorm', () => {
  for (const name of MODEL_NAMES) {
    it(`${name}: the folded copy gives the model's inference output with fewer layers, and leaves the model as it was`, async () => {
      const model = createModel({ name, size: 32, channels: 3, features: name === 'deeplabv3plus' ? undefined : 4 }, { seed: 3 });
      perturbBatchNorms(model, 17);
      const layersBefore = model.layers.length;
      const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5);
      const want = tf.tidy(() => model.predict(x) as tf.Tensor);
      const { model: folded, folded: count } = await foldBatchNorm(model);
      const got = tf.tidy(() => folded.predict(x) as tf.Tensor);
      assert.ok(count > 0, 'some chains folded');
      assert.ok(folded.layers.length < layersBefore, `${folded.layers.length} layers < ${layersBefore}`);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]);
      assert.ok(diff < 1e-4, `output: max |difference| ${diff}`);
      // The output is a sigmoid, which can saturate; what feeds the last layer cannot, so compare that too.
      const lastInput = (m: typeof model) => tf.model({ inputs: m.inputs, outputs: m.layers[m.layers.length - 1].input as tf.SymbolicTensor });
      const [a, b] = [lastInput(model), lastInput(folded)].map((m) => tf.tidy(() => m.predict(x) as tf.Tensor));
      const scale = tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]);
      const rel = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]) / scale;
      assert.ok(scale > 0 && rel < 1e-4, `last layer's input: max |difference| ${rel} of its largest value ${scale}`);
      tf.dispose([a, b]);
      // the original still runs on its own graph and weights (up to the rounding of a packed filter on a reused one)
      assert.equal(model.layers.length, layersBefore);
      const again = tf.tidy(() => model.predict(x) as tf.Tensor);
      assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(again, want))).dataSync()[0]) < 1e-4);
      tf.dispose([x, want, got, again]);
      folded.dispose();
      model.dispose();
    });
  }

  it('the U-Net folds every convolution -> batch norm -> ReLU chain: no batch norm or ReLU layer is left', async () => {
    const model = createModel({ name: 'unet', size: 16, channels: 1, features: 2 }, { seed: 1 });
    const { model: folded, folded: count } = await foldBatchNorm(model);
    assert.equal(count, 18);
    assert.deepEqual(folded.layers.filter((l) => ['BatchNormalization', 'ReLU'].includes(l.getClassName())).map((l) => l.name), []);
    folded.dispose();
    model.dispose();
  });
});
