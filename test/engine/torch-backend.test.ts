import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadNative } from '../../src/engine/torch/native.js';
import { bfloat16Skip, maxDiff, runOn, tf, torchSkip, values } from './helpers.js';

test('tensors round-trip through native memory for every dtype', { skip: torchSkip }, async () => {
  await tf.setBackend('torch');
  const f = tf.tensor([1.5, -2, 3.25], [3], 'float32');
  const i = tf.tensor([1, -2, 2147483647], [3], 'int32');
  const b = tf.tensor([true, false, true], [3], 'bool');
  const c = tf.complex([1, 2], [3, 4]);
  const s = tf.tensor(['a', 'bc'], [2], 'string');
  assert.deepEqual(Array.from(await f.data()), [1.5, -2, 3.25]);
  assert.deepEqual(Array.from(await i.data()), [1, -2, 2147483647]);
  assert.deepEqual(Array.from(await b.data()), [1, 0, 1]);
  assert.deepEqual(Array.from(await tf.real(c).data()), [1, 2]);
  assert.deepEqual(Array.from(await tf.imag(c).data()), [3, 4]);
  assert.deepEqual(await s.data(), ['a', 'bc']);
  assert.deepEqual(Array.from(await tf.reshape(f, [1, 3]).data()), [1.5, -2, 3.25]);
  tf.dispose([f, i, b, c, s]);
});

const convCases: [string, number[][], (...x: tf.Tensor[]) => tf.Tensor | tf.Tensor[]][] = [
  ['conv2d same stride 1', [[2, 7, 6, 3], [3, 3, 3, 4]], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')],
  ['conv2d same stride 2 (asymmetric pad)', [[2, 8, 7, 3], [3, 3, 3, 4]], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same')],
  ['conv2d valid dilated', [[1, 9, 9, 2], [3, 3, 2, 3]], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid', 'NHWC', 2)],
  ['conv2d gradients', [[2, 8, 8, 3], [3, 3, 3, 4]], (x, w) =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, w])],
  ['conv2dTranspose and gradients', [[2, 4, 4, 6], [2, 2, 3, 6]], (x, w) =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 8, 8, 3], 2, 'same'))))([x, w])],
  ['depthwise conv and gradients', [[1, 6, 6, 3], [3, 3, 3, 2]], (x, w) =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))))([x, w])],
  ['fused conv2d with bias and relu', [[1, 5, 5, 2], [3, 3, 2, 4], [4]], (x, w, b) =>
    tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'relu' })],
  ['max pool gradient', [[2, 7, 7, 3]], (x) => tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.maxPool(a as tf.Tensor4D, 3, 2, 'same'))))(x)],
  ['avg pool gradient', [[1, 6, 6, 2]], (x) => tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.avgPool(a as tf.Tensor4D, 2, 2, 'valid'))))(x)],
  ['batch norm', [[2, 3, 3, 4], [4], [4], [4], [4]], (x, m, v, o, s) => tf.batchNorm(x, m, tf.abs(v), o, s, 1e-3)],
  // (square inputs: tfjs 4.22's cpu ResizeBilinearGrad gets non-square ones wrong)
  ['resize bilinear and gradient', [[1, 5, 5, 2]], (x) =>
    tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.image.resizeBilinear(a as tf.Tensor4D, [9, 7], true))))(x)],
  ['resize bilinear, half-pixel centers', [[1, 5, 4, 2]], (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [9, 7], false, true)],
  ['resize nearest', [[1, 5, 4, 2]], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [10, 3])],
  ['matmul, softmax, reductions', [[3, 4], [4, 5]], (a, b) => {
    const y = tf.softmax(tf.matMul(a, b));
    return [y, tf.sum(y, 1), tf.mean(y, 0), tf.max(y, [0, 1]), tf.argMax(y, 1).toFloat()];
  }],
];

for (const [name, shapes, f] of convCases) {
  test(`torch matches cpu: ${name}`, { skip: torchSkip }, async () => {
    const want = await runOn('cpu', shapes, f);
    const got = await runOn('torch', shapes, f);
    assert.equal(got.length, want.length);
    for (let i = 0; i < want.length; i++) {
      assert.deepEqual(got[i].shape, want[i].shape);
      assert.ok(maxDiff(got[i].data, want[i].data) < 1e-4, `output ${i} differs by ${maxDiff(got[i].data, want[i].data)}`);
    }
  });
}

test('a libtorch error becomes a JS Error naming the kernel, the operator and the shapes', { skip: torchSkip }, async () => {
  await tf.setBackend('torch');
  const a = tf.ones([2, 3]);
  const b = tf.ones([2, 3]);
  assert.throws(() => tf.matMul(a, b), (e: Error) =>
    /BatchMatMul/.test(e.message) && /aten::matmul/.test(e.message) && /\[2,3\]/.test(e.message));
  tf.dispose([a, b]);
});

test('numTensors and native tensors stay constant over training steps', { skip: torchSkip }, async () => {
  await tf.setBackend('torch');
  const w = tf.variable(tf.randomNormal([3, 3, 2, 4], 0, 0.1, 'float32', 1));
  const w2 = tf.variable(tf.randomNormal([1, 1, 4, 1], 0, 0.1, 'float32', 2));
  const x = tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 3);
  const y = tf.randomUniform([2, 4, 4, 1], 0, 1, 'float32', 4);
  const opt = tf.train.adam(1e-2);
  const step = () => opt.minimize(() => {
    const h = tf.relu(tf.conv2d(x as tf.Tensor4D, w as tf.Variable<tf.Rank.R4>, 1, 'same'));
    const p = tf.sigmoid(tf.conv2d(tf.maxPool(h, 2, 2, 'same'), w2 as tf.Variable<tf.Rank.R4>, 1, 'same'));
    return tf.sub(1, tf.div(tf.add(tf.mul(2, tf.sum(tf.mul(p, y))), 1), tf.add(tf.add(tf.sum(p), tf.sum(y)), 1))) as tf.Scalar;
  }, false);
  for (let i = 0; i < 3; i++) step();
  const before = tf.memory().numTensors;
  const nativeBefore = loadNative()!.liveTensors();
  for (let i = 0; i < 20; i++) step();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(loadNative()!.liveTensors(), nativeBefore);
  opt.dispose();
  tf.dispose([w, w2, x, y]);
});

test('a kernel without a native version runs through the cpu fallback', { skip: torchSkip }, async () => {
  await tf.setBackend('torch');
  const x = tf.tensor1d([3, 1, 2]);
  const { values, indices } = tf.topk(x, 2);
  assert.deepEqual(Array.from(await values.data()), [3, 2]);
  assert.deepEqual(Array.from(await indices.data()), [0, 2]);
  tf.dispose([x, values, indices]);
});

test('a filter reused unchanged (inference) is packed for oneDNN once and convolves as the plain filter does', { skip: torchSkip }, async () => {
  // Batches of 1 and 3, symmetric and asymmetric padding, stride 2: every forward path, each run three times on one
  // filter (plain, then packed, then the kept pack), against the cpu backend; and an output large enough that the
  // plain filter is used on every call.
  const cases: [number[], number, 'same' | 'valid'][] = [[[1, 9, 9, 4], 1, 'same'], [[3, 8, 8, 4], 2, 'same'], [[3, 7, 7, 4], 1, 'valid'], [[2, 17, 17, 4], 1, 'same']];
  for (const [shape, stride, pad] of cases) {
    const conv = (x: tf.Tensor, w: tf.Tensor) => [1, 2, 3].map(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad));
    const fused = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => [1, 2, 3].map(() => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: stride, pad, bias: b, activation: 'relu' }));
    const want = await runOn('cpu', [shape, [3, 3, 4, 5]], conv);
    const got = await runOn('torch', [shape, [3, 3, 4, 5]], conv);
    const wantFused = await runOn('cpu', [shape, [3, 3, 4, 5], [5]], fused);
    const gotFused = await runOn('torch', [shape, [3, 3, 4, 5], [5]], fused);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(got[i].shape, want[i].shape);
      assert.ok(maxDiff(got[i].data, want[i].data) < 1e-4, `conv ${shape} stride ${stride} ${pad}, call ${i + 1}`);
      assert.ok(maxDiff(gotFused[i].data, wantFused[i].data) < 1e-4, `fused conv ${shape} stride ${stride} ${pad}, call ${i + 1}`);
    }
  }
  // The pack lives as long as the filter: disposing it frees both native tensors.
  await tf.setBackend('torch');
  const live = loadNative()!.liveTensors();
  const x = tf.ones([1, 6, 6, 2]) as tf.Tensor4D;
  const w = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
  for (let i = 0; i < 3; i++) tf.conv2d(x, w, 1, 'same').dispose();
  tf.dispose([x, w]);
  assert.equal(loadNative()!.liveTensors(), live);
});

test('bfloat16 inference: reused filters convolve in bfloat16 within its precision, float32 out; first uses stay exact', { skip: bfloat16Skip }, async () => {
  const { setInferencePrecision } = await import('../../src/engine/torch/index.js');
  // Larger channel counts than above, so bfloat16's rounding shows: a bfloat16 result is not float32's.
  const cases: [number[], number, 'same' | 'valid'][] = [[[1, 9, 9, 16], 1, 'same'], [[3, 8, 8, 16], 2, 'same'], [[2, 17, 17, 16], 1, 'same']];
  try {
    setInferencePrecision('bfloat16');
    for (const [shape, stride, pad] of cases) {
      const fused = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => [1, 2, 3].map(() => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: stride, pad, bias: b, activation: 'relu' }));
      const want = await runOn('cpu', [shape, [3, 3, 16, 8], [8]], fused);
      const got = await runOn('torch', [shape, [3, 3, 16, 8], [8]], fused);
      const scale = Math.max(...want[0].data.map(Math.abs));
      // Call 1 is a training-like first use (float32, exact); calls 2 and 3 take the kept bfloat16 filter.
      assert.ok(maxDiff(got[0].data, want[0].data) < 1e-4, `${shape}: first call in float32`);
      for (const i of [1, 2]) {
        const d = maxDiff(got[i].data, want[i].data) / scale;
        assert.ok(d < 2e-2, `${shape} call ${i + 1}: relative error ${d} beyond bfloat16's`);
        assert.ok(d > 1e-6, `${shape} call ${i + 1}: identical to float32, so bfloat16 was not used`);
      }
    }
  } finally {
    setInferencePrecision('float32');
  }
  // The kept bfloat16 filter is freed with the filter.
  await tf.setBackend('torch');
  const live = loadNative()!.liveTensors();
  setInferencePrecision('bfloat16');
  const x = tf.ones([2, 16, 16, 4]) as tf.Tensor4D;
  const w = tf.ones([3, 3, 4, 4]) as tf.Tensor4D;
  for (let i = 0; i < 3; i++) {
    const y = tf.conv2d(x, w, 1, 'same');
    assert.equal(y.dtype, 'float32');
    y.dispose();
  }
  setInferencePrecision('float32');
  tf.dispose([x, w]);
  assert.equal(loadNative()!.liveTensors(), live);
});

test('bfloat16 inference: transposed convolutions with kernel = stride (U-Net upsampling) run in bfloat16 once their filter is reused; others stay float32', { skip: torchSkip }, async () => {
  const { setInferencePrecision } = await import('../../src/engine/torch/index.js');
  // [input, filter [kh, kw, out, in], stride, padding, block-shaped]: 2 x 2 / 2 and 3 x 3 / 3, then an overlapping
  // 3 x 3 / 2, which ATen's float32 transposed convolution computes.
  const cases: [number[], number[], number, 'same' | 'valid', boolean][] = [
    [[2, 4, 5, 16], [2, 2, 8, 16], 2, 'same', true], [[1, 3, 3, 16], [3, 3, 8, 16], 3, 'valid', true], [[2, 4, 4, 16], [3, 3, 8, 16], 2, 'same', false]];
  try {
    setInferencePrecision('bfloat16');
    for (const [shape, fshape, s, pad, block] of cases) {
      const out = [shape[0], shape[1] * s, shape[2] * s, fshape[2]] as [number, number, number, number];
      const up = (x: tf.Tensor, w: tf.Tensor) => [1, 2, 3].map(() => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, out, s, pad));
      const want = await runOn('cpu', [shape, fshape], up);
      const got = await runOn('torch', [shape, fshape], up);
      const scale = Math.max(...want[0].data.map(Math.abs));
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(got[i].shape, want[i].shape);
        const d = maxDiff(got[i].data, want[i].data) / scale;
        const bfloat16 = block && i > 0;
        if (!bfloat16) assert.ok(d < 1e-5, `${shape} * ${fshape} stride ${s} ${pad}, call ${i + 1}: float32 expected, error ${d}`);
        else assert.ok(d < 2e-2 && d > 1e-7, `${shape} * ${fshape} stride ${s} ${pad}, call ${i + 1}: bfloat16 expected, error ${d}`);
      }
    }
  } finally {
    setInferencePrecision('float32');
  }
});

test('bfloat16 inference leaves training alone: a step through a transposed convolution and a convolution is float32', { skip: torchSkip }, async () => {
  const { setInferencePrecision } = await import('../../src/engine/torch/index.js');
  // Forward, the upsampling filter serves a transposed convolution; backward, the same filter serves a convolution
  // (its input gradient). Each is that filter's first use of its kind, so both must stay float32.
  const step = (x: tf.Tensor, wu: tf.Tensor, w: tf.Tensor) => {
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 8, 8, 16], 2, 'same'), c as tf.Tensor4D, 1, 'same')));
    return tf.grads(f)([x, wu, w]);
  };
  const shapes = [[2, 4, 4, 16], [2, 2, 16, 16], [3, 3, 16, 8]];
  const want = await runOn('cpu', shapes, step);
  try {
    setInferencePrecision('bfloat16');
    const got = await runOn('torch', shapes, step);
    for (let i = 0; i < want.length; i++) {
      const scale = Math.max(...want[i].data.map(Math.abs));
      assert.ok(maxDiff(got[i].data, want[i].data) / scale < 1e-5, `gradient ${i}: float32 expected`);
    }
  } finally {
    setInferencePrecision('float32');
  }
});

test('bfloat16 inference: activations pass between convolutions, pooling, upsampling, bias and concat in bfloat16; other kernels get float32', { skip: bfloat16Skip }, async () => {
  const { setInferencePrecision } = await import('../../src/engine/torch/index.js');
  // A small U-Net: conv, pool, conv, transposed conv + bias, concat with the skip, conv, sigmoid.
  const unet = (x: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, wu: tf.Tensor, bu: tf.Tensor, w3: tf.Tensor, b: tf.Tensor) => {
    const conv = (t: tf.Tensor, w: tf.Tensor) => tf.fused.conv2d({ x: t as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'relu' });
    const skip = conv(x, w1);
    const deep = conv(tf.maxPool(skip as tf.Tensor4D, 2, 2, 'valid'), w2);
    const up = tf.add(tf.conv2dTranspose(deep as tf.Tensor4D, wu as tf.Tensor4D, [2, 8, 8, 16], 2, 'same'), bu);
    const joined = tf.concat([up, skip], 3);
    const head = conv(joined, w3);
    return { skip, deep, up, joined, head, out: tf.sigmoid(head) };
  };
  const shapes = [[2, 8, 8, 8], [3, 3, 8, 16], [3, 3, 16, 16], [2, 2, 16, 16], [16], [3, 3, 32, 16], [16]];
  const want = await runOn('cpu', shapes, (...t) => [1, 2, 3].map(() => unet(...t as Parameters<typeof unet>).head));
  const { TorchBackend } = await import('../../src/engine/torch/torch-backend.js');
  try {
    setInferencePrecision('bfloat16');
    await tf.setBackend('torch');
    const backend = tf.backend() as InstanceType<typeof TorchBackend>;
    const inputs = shapes.map((s, i) => tf.tensor(values(s.reduce((a, b) => a * b, 1), i + 7), s));
    const scale = Math.max(...want[0].data.map(Math.abs));
    for (let call = 0; call < 3; call++) {
      const r = unet(...inputs as Parameters<typeof unet>);
      // Call 1 is a training-like first use: float32 throughout. Later calls keep every activation in bfloat16.
      const stored = [r.skip, r.deep, r.up, r.joined, r.head].map((t) => backend.isBfloat16(t));
      assert.deepEqual(stored, Array(5).fill(call > 0), `call ${call + 1}: activations stored in bfloat16`);
      assert.equal(backend.isBfloat16(r.out), false, 'sigmoid is not bfloat16-aware, so it got float32');
      for (const t of Object.values(r)) assert.equal(t.dtype, 'float32');
      // Four convolutions in a row, each rounding its input, filter and output to bfloat16 (2^-8 relative): here 0.006
      // of the output's range.
      const d = maxDiff(r.head.dataSync() as Float32Array, want[call].data) / scale;
      if (call === 0) assert.ok(d < 1e-5, `first call in float32: ${d}`);
      else assert.ok(d < 2e-2 && d > 1e-7, `call ${call + 1}: relative error ${d}, expected bfloat16's (not 0, below 2e-2)`);
      // A bfloat16 activation reads back (dataSync) and feeds any other kernel as float32.
      const skipData = r.skip.dataSync() as Float32Array;
      const doubled = tf.mul(r.skip, 2).dataSync() as Float32Array;
      assert.ok(skipData.every((v, i) => doubled[i] === 2 * v));
      tf.dispose(Object.values(r));
    }
    tf.dispose(inputs);
  } finally {
    setInferencePrecision('float32');
  }
});

test('fused batch norm in training matches tfjs-layers own: output, gradients and moving statistics', { skip: torchSkip }, async () => {
  const { FusedBatchNormalization } = await import('../../src/models/batch-norm.js');
  await tf.setBackend('torch');
  const x = tf.tensor4d(values(2 * 5 * 4 * 3, 11), [2, 5, 4, 3]).mul(4).add(1);
  const run = (fused: boolean) => {
    const args = { axis: -1, momentum: 0.9, epsilon: 1e-5, gammaInitializer: tf.initializers.constant({ value: 1.5 }), betaInitializer: tf.initializers.constant({ value: -0.25 }) };
    const layer = fused ? new FusedBatchNormalization(args) : tf.layers.batchNormalization(args);
    layer.build(x.shape);
    const input = tf.variable(x);
    const [gamma, beta] = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    // A loss that weighs every output differently, so that every gradient term matters.
    const weighting = tf.range(0, x.size).reshape(x.shape).sin();
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, weighting)), [input, gamma, beta]);
    const [dx, dgamma, dbeta] = [input, gamma, beta].map((v) => grads[v.name]);
    assert.ok(tf.max(tf.abs(dgamma)).dataSync()[0] > 0.1 && tf.max(tf.abs(dbeta)).dataSync()[0] > 0.1, 'the loss depends on gamma and beta');
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const moving = layer.nonTrainableWeights.map((w) => w.read());
    return [y, dx, dgamma, dbeta, ...moving].map((t) => t.dataSync() as Float32Array);
  };
  const want = run(false);
  const got = run(true);
  const names = ['y', 'dx', 'dgamma', 'dbeta', 'moving mean', 'moving variance'];
  for (let i = 0; i < names.length; i++) assert.ok(maxDiff(got[i], want[i]) < 2e-4, `${names[i]} differs by ${maxDiff(got[i], want[i])}`);
});

test("fused Adam updates variables and moments exactly as tfjs's Adam, and saves the same state", { skip: torchSkip }, async () => {
  const { FusedAdamOptimizer } = await import('../../src/train/adam.js');
  await tf.setBackend('torch');
  const run = async (fused: boolean) => {
    const w = tf.variable(tf.tensor2d(values(12 * 7, 3), [12, 7]), true, fused ? 'wf' : 'wp');
    const b = tf.variable(tf.tensor1d(values(7, 4)), true, fused ? 'bf' : 'bp');
    const x = tf.tensor2d(values(5 * 12, 5), [5, 12]);
    const opt = fused ? new FusedAdamOptimizer(0.01, null) : tf.train.adam(0.01);
    for (let i = 0; i < 6; i++) opt.minimize(() => tf.sum(tf.square(tf.add(tf.matMul(x, w), b))) as tf.Scalar, false, [w, b]);
    const state = await opt.getWeights();
    const out = { w: w.dataSync(), b: b.dataSync(), names: state.map((s) => s.name.replace(/^(wf|wp)/, 'w').replace(/^(bf|bp)/, 'b')), state: state.map((s) => s.tensor.dataSync()) };
    opt.dispose();
    tf.dispose([w, b, x]);
    return out;
  };
  const plain = await run(false);
  const fused = await run(true);
  assert.deepEqual(fused.names, plain.names);
  assert.deepEqual(fused.w, plain.w, 'same float32 operations in the same order: equal to the bit');
  assert.deepEqual(fused.b, plain.b);
  for (let i = 0; i < plain.state.length; i++) assert.deepEqual(fused.state[i], plain.state[i], plain.names[i]);
});

test('the addon counts the tensor storage in use: a tensor adds its bytes, disposing it gives them back', { skip: torchSkip }, async () => {
  await tf.setBackend('torch');
  const native = loadNative()!;
  const before = native.liveBytes!();
  const t = tf.zeros([256, 1024]); // 1 MB of float32
  const during = native.liveBytes!();
  assert.ok(during - before >= 256 * 1024 * 4, `${during - before} bytes more`);
  t.dispose();
  assert.equal(native.liveBytes!(), before);
});
