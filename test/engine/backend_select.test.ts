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
  const f = (x: tf.Tensor, w: tf.Tensor) =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, w]);
  const shapes = [[2, 6, 6, 3], [3, 3, 3, 4]];
  const want = await runOn('cpu', shapes, f);
  const got = await runOn('wasm', shapes, f);
  for (let i = 0; i < want.length; i++) assert.ok(maxDiff(got[i].data, want[i].data) < 1e-3);
});
