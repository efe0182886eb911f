import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createModel, MODEL_NAMES, trainableParameterCount } from '../../src/models/index.js';
import { tf } from '../support/engine.js';

describe('models', () => {
  it('the reference U-Net has exactly 7,763,041 parameters for 3 channels and 7,762,465 for 1', () => {
    assert.equal(trainableParameterCount(createModel({ name: 'unet', size: 64, channels: 3 })), 7_763_041);
    assert.equal(trainableParameterCount(createModel({ name: 'unet', size: 64, channels: 1 })), 7_762_465);
  });

  it('ResUNet++ and DeepLabv3+ have their documented parameter counts', () => {
    assert.equal(trainableParameterCount(createModel({ name: 'resunetpp', size: 64, channels: 3 })), 4_062_993);
    assert.equal(trainableParameterCount(createModel({ name: 'resunetpp', size: 64, channels: 1 })), 4_062_673);
    assert.equal(trainableParameterCount(createModel({ name: 'deeplabv3plus', size: 64, channels: 3 })), 26_711_201);
    assert.equal(trainableParameterCount(createModel({ name: 'deeplabv3plus', size: 64, channels: 1 })), 26_704_929);
  });

  it('map S x S x C inputs to S x S probabilities for every S divisible by 16', () => {
    for (const name of MODEL_NAMES) {
      for (const [size, channels] of [[16, 1], [32, 3], [48, 3]] as const) {
        const model = createModel({ name, size, channels, features: name === 'deeplabv3plus' ? undefined : 4 });
        const y = tf.tidy(() => model.predict(tf.randomUniform([2, size, size, channels], 0, 255)) as tf.Tensor);
        assert.deepEqual(y.shape, [2, size, size, 1], `${name} at ${size}`);
        const [min, max] = [tf.min(y).dataSync()[0], tf.max(y).dataSync()[0]];
        assert.ok(min >= 0 && max <= 1, `${name}: sigmoid output in [0, 1]`);
        y.dispose();
        model.dispose();
      }
    }
  });

  it('seeded models start from the same weights', () => {
    const a = createModel({ name: 'unet', size: 16, channels: 1, features: 2 }, { seed: 9 }).getWeights();
    const b = createModel({ name: 'unet', size: 16, channels: 1, features: 2 }, { seed: 9 }).getWeights();
    const c = createModel({ name: 'unet', size: 16, channels: 1, features: 2 }, { seed: 10 }).getWeights();
    assert.deepEqual(a[0].dataSync(), b[0].dataSync());
    assert.notDeepEqual(a[0].dataSync(), c[0].dataSync());
  });

  it('refuses sizes not divisible by 16 and channel counts other than 1 or 3', () => {
    assert.throws(() => createModel({ name: 'unet', size: 40, channels: 3 }), /--size: must be a multiple of 16/);
    assert.throws(() => createModel({ name: 'unet', size: 0, channels: 3 }), /--size: must be a multiple of 16/);
    assert.throws(() => createModel({ name: 'unet', size: 32, channels: 4 }), /channels: must be 1 or 3, got 4/);
  });
});
