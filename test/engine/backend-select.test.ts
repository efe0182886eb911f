import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.js';
import { maxDiff, runOn, tf } from './helpers.js';

test('a bad STS_THREADS or backend name is refused with the allowed values', async () => {
  await assert.rejects(initEngine({ threads: 0, warn: null }), /whole number >= 1/);
  await assert.rejects(initEngine({ backend: 'gpu' as never, warn: null }), /unset it|torch, wasm, cpu|no TensorFlow.js engine/);
});

test('wasm gets a Conv2DBackpropFilter that matches the cpu backend', async () => {
  const info = await initEngine({ backend: 'wasm', warn: null });
  assert.equal(info.backend, 'wasm');
  // stride 1 (Conv3D path) and strides 2 / 3 (matrix-product path), 'same' with uneven padding and 'valid',
  // and the 2 x 2 stride-2 transposed convolution of the U-Net's decoder.
  const cases: [number[], number[], number, 'same' | 'valid'][] = [
    [[2, 6, 6, 3], [3, 3, 3, 4], 2, 'same'],
    [[2, 7, 5, 3], [3, 3, 3, 4], 2, 'same'],
    [[1, 7, 7, 2], [3, 3, 2, 3], 2, 'valid'],
    [[1, 9, 8, 2], [3, 2, 2, 3], 3, 'same'],
    [[2, 6, 6, 3], [3, 3, 3, 4], 1, 'same'],
  ];
  for (const [xShape, wShape, stride, pad] of cases) {
    const f = (x: tf.Tensor, w: tf.Tensor) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad))))([x, w]);
    const want = await runOn('cpu', [xShape, wShape], f);
    const got = await runOn('wasm', [xShape, wShape], f);
    for (let i = 0; i < want.length; i++) assert.ok(maxDiff(got[i].data, want[i].data) < 1e-3, `${xShape} ${wShape} stride ${stride} ${pad}`);
  }
  const t = (x: tf.Tensor, w: tf.Tensor) =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 8, 8, 3], 2, 'same'))))([x, w]);
  const want = await runOn('cpu', [[2, 4, 4, 5], [2, 2, 3, 5]], t);
  const got = await runOn('wasm', [[2, 4, 4, 5], [2, 2, 3, 5]], t);
  for (let i = 0; i < want.length; i++) assert.ok(maxDiff(got[i].data, want[i].data) < 1e-3, 'conv2dTranspose');
});

test('starting the engine again keeps the tensors made before readable (a command run inside a program)', async (t) => {
  const first = await initEngine({ warn: null });
  if (first.backend !== 'torch') t.skip('the torch engine is not built');
  const x = tf.tensor1d([1, 2, 3]);
  await initEngine({ warn: null });
  assert.deepEqual(Array.from(tf.add(x, 1).dataSync()), [2, 3, 4]);
  x.dispose();
});
