/**
 * Dilated convolutions train: their gradient (models/atrous-conv.ts) equals that of the same convolution written
 * with an undilated kernel stuffed with zeros (which tfjs differentiates itself), and the two architectures with
 * atrous layers train: ResUNet++ through `sts train` (save, load, resume), DeepLabv3+ a gradient step.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '../support/engine.js';
import { AtrousConv2D, atrousConv2d } from '../../src/models/atrous-conv.js';
import { loadModel } from '../../src/engine/model-files.js';
import { createModel } from '../../src/models/index.js';
import { prepareTraining } from '../../src/cli/commands/train.js';
import { train } from '../../src/train/trainer.js';
import { makeImagesMasks, tempDir } from '../support/datasets.js';

/** w [k, k, in, out] as the undilated kernel of side (k - 1) d + 1 with zeros between the taps, differentiably. */
function stuffed(w: tf.Tensor4D, d: number): tf.Tensor4D {
  const [k, , cin, cout] = w.shape;
  const big = (k - 1) * d + 1;
  const select = new Float32Array(big * big * k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) select[(i * d * big + j * d) * k * k + i * k + j] = 1;
  return tf.reshape(tf.matMul(tf.tensor2d(select, [big * big, k * k]), tf.reshape(w, [k * k, cin * cout])), [big, big, cin, cout]);
}

const maxAbs = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

describe('atrous convolutions', () => {
  it('forward and gradients equal those of the zero-stuffed undilated kernel', () => {
    for (const [d, h, w, k] of [[2, 7, 6, 3], [6, 4, 5, 3], [3, 9, 9, 5]]) {
      const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', d) as tf.Tensor4D;
      const kernel = tf.randomNormal([k, k, 3, 4], 0, 1, 'float32', d + 1) as tf.Tensor4D;
      const r = tf.randomNormal([2, h, w, 4], 0, 1, 'float32', d + 2);
      const ours = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(atrousConv2d(a as tf.Tensor4D, b as tf.Tensor4D, [d, d]), r));
      const reference = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, stuffed(b as tf.Tensor4D, d), 1, 'same'), r));
      assert.ok(maxAbs(atrousConv2d(x, kernel, [d, d]), tf.conv2d(x, stuffed(kernel, d), 1, 'same')) < 1e-3, `forward, d = ${d}`);
      const [dx, dw] = tf.grads(ours)([x, kernel]);
      const [rx, rw] = tf.grads(reference)([x, kernel]);
      assert.ok(maxAbs(dx, rx) < 1e-3, `input gradient, d = ${d} (${h} x ${w}, k = ${k}): ${maxAbs(dx, rx)}`);
      assert.ok(maxAbs(dw, rw) < 1e-2, `kernel gradient, d = ${d}: ${maxAbs(dw, rw)}`);
      assert.ok(tf.max(tf.abs(rw)).dataSync()[0] > 1, 'a gradient worth comparing');
    }
  });

  it('DeepLabv3+ takes a training step: every dilated layer gets a gradient', () => {
    const model = createModel({ name: 'deeplabv3plus', size: 32, channels: 3 }, { seed: 3 });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 255, 'float32', 4);
    const { grads } = tf.variableGrads(() => tf.mean(model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    const dilated = model.layers.filter((l) => l instanceof AtrousConv2D);
    assert.ok(dilated.length >= 6, `the dilated stage and the ASPP (${dilated.length} layers)`);
    for (const layer of dilated) {
      const g = grads[layer.trainableWeights[0].name];
      assert.ok(g && tf.max(tf.abs(g)).dataSync()[0] > 0, `${layer.name}: a gradient`);
    }
    tf.dispose(Object.values(grads));
    model.dispose();
  });

  for (const model of ['resunetpp'] as const) {
    it(`${model} trains, saves, loads as a trainable model and resumes`, async () => {
      const root = tempDir(`sts-${model}-`);
      await makeImagesMasks(join(root, 'data'), Array.from({ length: 6 }, (_, i) => `img${i}`), { w: 40, h: 36 });
      const options = { data: join(root, 'data'), stage: 'rough', out: join(root, 'run'), model, size: 32, seed: 1, resize: 'nearest', dropPolicy: 'reference', epochs: 1, batch: 2, features: 4 } as const;
      const first = await train((await prepareTraining(options, { log: () => {} })).options);
      assert.ok(Number.isFinite(first.bestDsc), 'a validation DSC after an epoch');
      const dilated = first.model.layers.filter((l) => l.getClassName() === 'Conv2D' && [l.getConfig().dilationRate].flat().some((v) => Number(v) > 1));
      assert.ok(dilated.length > 0 && dilated.every((l) => l instanceof AtrousConv2D), 'its dilated layers carry their gradient');
      first.model.dispose();
      const loaded = await loadModel(join(root, 'run', 'last'));
      assert.ok(loaded.model.layers.some((l) => l instanceof AtrousConv2D), 'a loaded model gets the gradient too');
      loaded.model.dispose();
      const resumed = await train((await prepareTraining({ ...options, epochs: 2, resume: true }, { log: () => {} })).options);
      assert.equal(resumed.resumedFrom, 1);
      assert.equal(resumed.epochsRun, 1, 'the second epoch, run on the loaded model');
      resumed.model.dispose();
    });
  }
});
