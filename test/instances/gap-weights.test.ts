/**
 * The cores' loss weights (src/instances/gap-weights.ts) and their use in a training step: the gap between two
 * cores weighs most, a lone core adds nothing, and the trainer's loss is soft Dice plus the weighted cross-entropy
 * of the core channel.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tf } from '../support/engine.js';
import { gapWeights } from '../../src/instances/gap-weights.js';
import { createModel } from '../../src/models/index.js';
import { trainingArithmetic, trainStep } from '../../src/train/trainer.js';

/** Cores from rows of characters: '#' core, '.' not. */
function coresOf(rows: string[]): { core: Uint8Array; width: number; height: number } {
  return { core: Uint8Array.from(rows.join(''), (c) => (c === '#' ? 1 : 0)), width: rows[0].length, height: rows.length };
}

describe('gap weights', () => {
  const two = coresOf([
    '....................',
    '....................',
    '....................',
    '...###....###.......',
    '...###....###.......',
    '...###....###.......',
    '....................',
    '....................',
    '....................',
    '....................',
  ]);

  it('a pixel between two cores weighs 1 + w0 exp(-(d1 + d2)^2 / 2 sigma^2) with city-block distances, a core pixel 1', () => {
    const w = gapWeights(two.core, two.width, two.height, { w0: 10, sigma: 3 });
    // (7, 4): 2 from the left core's column 5, 3 from the right core's column 10.
    assert.ok(Math.abs(w[4 * 20 + 7] - (1 + 10 * Math.exp(-25 / 18))) < 1e-5, String(w[4 * 20 + 7]));
    // (8, 4): 3 + 2, the same; (7, 1): 2 + 2 down to the row, plus 3 and 2 along it.
    assert.ok(Math.abs(w[4 * 20 + 8] - w[4 * 20 + 7]) < 1e-6);
    assert.ok(Math.abs(w[1 * 20 + 7] - (1 + 10 * Math.exp(-81 / 18))) < 1e-5, String(w[1 * 20 + 7]));
    assert.equal(w[4 * 20 + 4], 1);
    // Right of the right core, the left core is 14 or more away: beyond the weights' reach.
    assert.equal(w[4 * 20 + 19], 1);
    // The gap weighs more than anything around the cores' outer sides.
    const gap = w[4 * 20 + 7];
    for (let i = 0; i < w.length; i++) assert.ok(w[i] <= gap + 1e-6, `pixel ${i}: ${w[i]} above the gap's ${gap}`);
  });

  it('a lone core or an empty map weighs 1 everywhere, and so does w0 = 0', () => {
    const one = coresOf(['......', '.##...', '.##...', '......']);
    assert.deepEqual([...gapWeights(one.core, one.width, one.height)], new Array(24).fill(1));
    assert.deepEqual([...gapWeights(new Uint8Array(24), 6, 4)], new Array(24).fill(1));
    assert.deepEqual([...gapWeights(two.core, two.width, two.height, { w0: 0, sigma: 3 })], new Array(200).fill(1));
  });

  it('refuses a map of the wrong length and a sigma of 0', () => {
    assert.throws(() => gapWeights(new Uint8Array(10), 4, 4), /core: has 10 values, expected 4 x 4/);
    assert.throws(() => gapWeights(two.core, two.width, two.height, { w0: 10, sigma: 0 }), /sigma > 0/);
  });

  it("a training step's loss is the channels' soft Dice plus the core channel's weighted cross-entropy", () => {
    const size = 16;
    const model = createModel({ name: 'unet', size, channels: 1, features: 2, outputs: 2 }, { seed: 3 });
    const optimizer = trainingArithmetic(model, 'pytorch', 1e-3);
    const variables = model.trainableWeights.map((v) => v.read() as tf.Variable);
    const pixels = size * size;
    const inputs = Float32Array.from({ length: pixels }, (_, i) => ((i * 37) % 255) / 255);
    const masks = new Float32Array(pixels);
    const cores = new Float32Array(pixels);
    for (let y = 4; y < 10; y++) {
      for (let x = 1; x < 15; x++) {
        masks[y * size + x] = 1;
        if (y >= 6 && y < 8 && ((x >= 3 && x < 6) || (x >= 9 && x < 12))) cores[y * size + x] = 1;
      }
    }
    // The step's forward pass in training mode (batch norm on the batch's statistics), before the step's update.
    const p = (model.apply(tf.tensor4d(inputs, [1, size, size, 1]), { training: true }) as tf.Tensor).dataSync();
    const dice = (c: number, truth: Float32Array) => {
      let inter = 0;
      let total = 0;
      for (let i = 0; i < pixels; i++) (inter += p[i * 2 + c] * truth[i]), (total += p[i * 2 + c] + truth[i]);
      return 1 - (2 * inter + 1) / (total + 1);
    };
    const w = gapWeights(cores, size, size);
    let entropy = 0;
    for (let i = 0; i < pixels; i++) {
      const q = Math.min(Math.max(p[i * 2 + 1], 1e-7), 1 - 1e-7);
      entropy -= w[i] * (cores[i] * Math.log(q) + (1 - cores[i]) * Math.log(1 - q));
    }
    const expected = (dice(0, masks) + dice(1, cores)) / 2 + entropy / pixels;
    const batch = { inputs, masks, cores, count: 1 };
    const withGaps = trainStep(model, optimizer, variables, batch, { size, channels: 1 }, { gaps: { w0: 10, sigma: 3 } });
    assert.ok(Number.isFinite(withGaps));
    assert.ok(w.some((v) => v > 2), 'the test cores have a gap');
    assert.ok(Math.abs(withGaps - expected) < 1e-4, `loss ${withGaps}, expected ${expected}`);
    // Without gap weights the same model's step is the Dice part alone (the weights changed by one step: loosely).
    const without = trainStep(model, optimizer, variables, batch, { size, channels: 1 });
    assert.ok(without < expected - entropy / pixels / 2, `${without} should be about the Dice part ${(dice(0, masks) + dice(1, cores)) / 2}`);
  });
});
