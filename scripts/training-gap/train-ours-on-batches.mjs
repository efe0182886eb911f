#!/usr/bin/env node
// Our trainer's own step (trainStep, PyTorch's arithmetic) on batch files, with our initial weights (a seed) or
// PyTorch's (a file from train_pytorch_on_batches.py --dump-init): the same JSON lines as the PyTorch script, so
// that the two trainers, and the two initial draws, can be set side by side on identical batches. After npm run build:
//   node scripts/training-gap/train-ours-on-batches.mjs <batches folder> <epochs> <seed | initial-weights.json>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, tf } from '../../dist/src/engine/backend.js';
import { createModel } from '../../dist/src/models/index.js';
import { trainingArithmetic, trainStep } from '../../dist/src/train/trainer.js';

const [src, epochs, init] = process.argv.slice(2);
if (!src || !epochs || !init) {
  console.error('usage: node scripts/training-gap/train-ours-on-batches.mjs <batches folder> <epochs> <seed | initial-weights.json>');
  process.exit(1);
}
await initEngine({ warn: null });
const S = 32, C = 3, BATCH = 16;
const seeded = /^\d+$/.test(init);
const model = createModel({ name: 'unet', size: S, channels: C, features: 32 }, { seed: seeded ? Number(init) : 1, init: 'pytorch' });
const floats = (buffer) => new Float32Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 4);
if (!seeded) {
  for (const [name, values] of Object.entries(JSON.parse(readFileSync(init, 'utf8')))) {
    model.getLayer(name).setWeights(values.map((v) => tf.tensor(floats(Buffer.from(v.float32, 'base64')), v.shape)));
  }
}
const optimizer = trainingArithmetic(model, 'pytorch', 5e-4);
const variables = model.trainableWeights.map((w) => w.read());
const load = (name) => [floats(readFileSync(join(src, `${name}_x.f32`))), floats(readFileSync(join(src, `${name}_y.f32`)))];
const [validX, validY] = load('valid');
const input = S * S * C;
const pixels = S * S;
for (let epoch = 0; epoch < Number(epochs); epoch++) {
  const started = performance.now();
  const [x, y] = load(`train${epoch}`);
  let sum = 0;
  let steps = 0;
  for (let i = 0; i + BATCH <= y.length / pixels; i += BATCH, steps++) {
    const batch = { inputs: x.subarray(i * input, (i + BATCH) * input), masks: y.subarray(i * pixels, (i + BATCH) * pixels), count: BATCH };
    sum += trainStep(model, optimizer, variables, batch, { size: S, channels: C });
  }
  const n = validY.length / pixels;
  const p = tf.tidy(() => model.predict(tf.tensor4d(validX, [n, S, S, C])).dataSync());
  let dsc = 0;
  for (let i = 0; i < n; i++) {
    let tp = 0, predicted = 0, truth = 0;
    for (let j = i * pixels; j < (i + 1) * pixels; j++) {
      const a = p[j] > 0.5, b = validY[j] > 0.5;
      tp += a && b;
      predicted += a;
      truth += b;
    }
    dsc += truth === 0 ? (predicted ? 0 : 1) : (2 * tp) / (predicted + truth);
  }
  console.log(JSON.stringify({ epoch: epoch + 1, loss: sum / steps, val_dsc: dsc / n, s: +((performance.now() - started) / 1000).toFixed(1) }));
}
