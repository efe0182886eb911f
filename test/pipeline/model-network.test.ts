import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createModel } from '../../src/models/index.js';
import { modelNetwork } from '../../src/pipeline/model-network.js';
import { tf } from '../support/engine.js';

const input = (seed: number) => ({ width: 16, height: 16, channels: 1, data: Float32Array.from({ length: 256 }, (_, i) => ((i * 7 + seed) % 13) / 13) });

describe('modelNetwork', () => {
  it("runs the batch-norm-folded copy: the model's own predictions, batched, one map per input", async () => {
    const model = createModel({ name: 'unet', size: 16, channels: 1, features: 2 }, { seed: 4 });
    const inputs = [input(1), input(2), input(3)];
    const want = tf.tidy(() => model.predict(tf.tensor4d(inputs.flatMap((x) => [...x.data]), [3, 16, 16, 1])) as tf.Tensor).dataSync();
    const network = modelNetwork(model, { batchSize: 2 });
    const maps = await network(inputs);
    assert.equal(maps.length, 3);
    maps.forEach((m, i) => {
      for (let k = 0; k < 256; k++) assert.ok(Math.abs(m[k] - want[i * 256 + k]) < 1e-5, `input ${i}, pixel ${k}`);
    });
    network.dispose();
    model.dispose();
  });

  it('frees its folded copy on dispose(), and an owned model as soon as the copy exists', async () => {
    const before = tf.memory().numTensors;
    const kept = createModel({ name: 'unet', size: 16, channels: 1, features: 2 }, { seed: 4 });
    const withModel = tf.memory().numTensors;
    const network = modelNetwork(kept);
    await network([input(1)]);
    assert.ok(tf.memory().numTensors > withModel, 'the folded copy holds tensors');
    network.dispose();
    assert.equal(tf.memory().numTensors, withModel, 'the caller still has its model');
    await modelNetwork(kept, { fold: false })([input(1)]); // still usable
    kept.dispose();
    assert.equal(tf.memory().numTensors, before);

    const owned = createModel({ name: 'unet', size: 16, channels: 1, features: 2 }, { seed: 4 });
    const ownedNetwork = modelNetwork(owned, { ownsModel: true });
    await ownedNetwork([input(1)]);
    assert.throws(() => owned.dispose(), /disposed/, 'the network disposed of the model it owns');
    ownedNetwork.dispose();
    assert.equal(tf.memory().numTensors, before);
    // owned but never run: dispose() still frees the model
    const idle = modelNetwork(createModel({ name: 'unet', size: 16, channels: 1, features: 2 }), { ownsModel: true });
    idle.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
