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

  it("pytorch init: every kernel and bias is uniform in +-1/sqrt(fan_in), fan_in as PyTorch computes it, for each layer kind", () => {
    // A U-Net (convolutions, transposed convolutions, the 1 x 1 head) and ResUNet++ (dense layers of the squeeze-excite).
    for (const name of ['unet', 'resunetpp'] as const) {
      const model = createModel({ name, size: 32, channels: 3, features: 8 }, { seed: 5 });
      const kinds = new Set<string>();
      for (const layer of model.layers) {
        const className = layer.getClassName();
        if (!['Conv2D', 'Conv2DTranspose', 'Dense'].includes(className)) continue;
        kinds.add(className);
        const [kernel, bias] = layer.getWeights();
        const shape = kernel.shape as number[];
        // tfjs kernels: Conv2D [kh, kw, in, out], Conv2DTranspose [kh, kw, out, in], Dense [in, out]. PyTorch's
        // fan_in: in x kh x kw, out x kh x kw for a transposed convolution (its weight is [in, out, kh, kw]), in.
        const fanIn = className === 'Dense' ? shape[0] : shape[0] * shape[1] * shape[2];
        const bound = 1 / Math.sqrt(fanIn);
        for (const [what, w] of [['kernel', kernel], ['bias', bias]] as const) {
          if (!w) continue;
          const v = Array.from(w.dataSync());
          const max = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
          assert.ok(max <= bound, `${name} ${layer.name} ${what}: |w| <= ${bound}, got ${max}`);
          if (v.length >= 200) {
            // Uniform on [-b, b]: max near b, standard deviation b / sqrt(3), mean near 0.
            const mean = v.reduce((a, x) => a + x, 0) / v.length;
            const std = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length);
            assert.ok(max > 0.95 * bound, `${name} ${layer.name} ${what}: fills its range (${max} of ${bound})`);
            assert.ok(Math.abs(std / (bound / Math.sqrt(3)) - 1) < 0.1, `${name} ${layer.name} ${what}: std ${std}, expected ${bound / Math.sqrt(3)}`);
            assert.ok(Math.abs(mean) < 0.1 * bound, `${name} ${layer.name} ${what}: mean ${mean}`);
          }
        }
      }
      assert.deepEqual([...kinds].sort(), name === 'unet' ? ['Conv2D', 'Conv2DTranspose'] : ['Conv2D', 'Dense']);
      model.dispose();
    }
  });

  it('tfjs init keeps the earlier weights: He-uniform kernels (bound sqrt(6 / fan_in)) and zero biases', () => {
    const model = createModel({ name: 'unet', size: 32, channels: 3, features: 8 }, { seed: 5, init: 'tfjs' });
    const conv = model.getLayer('upconv4');
    const [kernel, bias] = conv.getWeights();
    // tfjs's fan_in of a transposed convolution kernel [kh, kw, out, in]: kh x kw x out.
    const [kh, kw, out] = kernel.shape as number[];
    const bound = Math.sqrt(6 / (kh * kw * out));
    const max = Array.from(kernel.dataSync()).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assert.ok(max <= bound && max > 0.9 * bound, `He-uniform bound ${bound}, got ${max}`);
    assert.ok(Array.from(bias.dataSync()).every((x) => x === 0));
    model.dispose();
  });
});

