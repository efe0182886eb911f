import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/engine/model-files.js';
import { type EpochRecord, train, validationDsc } from '../../src/train/trainer.js';
import { tf } from '../support/engine.js';
import { discSamples, inMemoryData } from '../support/synthetic.js';

const S = 32;
const spec = { name: 'unet' as const, size: S, channels: 1, features: 4 };

describe('trainer', () => {
  it('trains a U-Net at S = 32 on a tiny synthetic set to a train DSC above 0.7, keeping the best model', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sts-train-'));
    const data = inMemoryData(discSamples(16, S, 1, 1), S, 1);
    const epochs: EpochRecord[] = [];
    const result = await train({ model: spec, data, out, seed: 1, epochs: 12, batchSize: 4, learningRate: 1e-2, onEpoch: (e) => epochs.push(e) });
    assert.ok(result.bestDsc > 0.7, `best DSC ${result.bestDsc}: ${epochs.map((e) => e.valDsc.toFixed(2)).join(' ')}`);
    assert.ok(epochs[epochs.length - 1].loss < epochs[0].loss);
    const best = await loadModel(join(out, 'best'));
    const reloaded = await validationDsc(best.model, data, 4);
    assert.ok(Math.abs(reloaded - result.bestDsc) < 1e-6, 'best/ holds the best epoch');
    assert.equal((best.metadata.sts as { model: { name: string } }).model.name, 'unet');
    assert.equal(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length, 12);
  });

  it('resumes after an interruption exactly where an uninterrupted run would be', async () => {
    const samples = discSamples(8, S, 1, 2);
    const common = { model: spec, seed: 5, epochs: 3, batchSize: 4, learningRate: 1e-2 };
    const straightOut = mkdtempSync(join(tmpdir(), 'sts-straight-'));
    const straight = await train({ ...common, data: inMemoryData(samples, S, 1), out: straightOut });

    const out = mkdtempSync(join(tmpdir(), 'sts-resume-'));
    const controller = new AbortController();
    // interrupt in the middle of epoch 2, as Ctrl-C would
    const onProgress = ({ epoch, done }: { epoch?: number; done: number }) => epoch === 2 && done === 1 && controller.abort();
    await assert.rejects(train({ ...common, data: inMemoryData(samples, S, 1), out, signal: controller.signal, onProgress }), { name: 'AbortError' });
    const state = JSON.parse(readFileSync(join(out, 'last', 'state.json'), 'utf8'));
    assert.equal(state.epoch, 1, 'the last completed epoch was saved');

    await assert.rejects(train({ ...common, data: inMemoryData(samples, S, 1), out }), /--out: .* already holds a run; add --resume/);
    await assert.rejects(train({ ...common, learningRate: 0.5, data: inMemoryData(samples, S, 1), out, resume: true }), /learningRate: the run in .* was started with 0\.01, not 0\.5/);
    const seen: number[] = [];
    const resumed = await train({ ...common, data: inMemoryData(samples, S, 1, (e) => seen.push(e)), out, resume: true });
    assert.deepEqual(seen, [1, 2], 'continues with the epoch that was interrupted');
    assert.equal(resumed.resumedFrom, 1);
    const a = (await loadModel(join(straightOut, 'last'))).model.getWeights();
    const b = resumed.model.getWeights();
    for (let i = 0; i < a.length; i++) {
      // Weights, moving statistics and Adam's state (its bias corrections included) are all restored; what is left
      // is rounding: the uninterrupted run's first step after validating convolves with filters that validation
      // packed for oneDNN, the resumed run's with plain ones, and Adam magnifies it where gradients are near zero.
      const diff = tf.max(tf.abs(tf.sub(a[i], b[i]))).dataSync()[0];
      const scale = Math.max(1, tf.max(tf.abs(a[i])).dataSync()[0]);
      assert.ok(diff / scale < 1e-5, `weight ${i} differs by ${diff} (scale ${scale})`);
    }
    assert.ok(Math.abs(resumed.bestDsc - straight.bestDsc) < 1e-5);
    assert.ok(!existsSync(join(out, 'last.tmp')));

    // A damaged run folder is named, with what to do, rather than a bare JSON error.
    writeFileSync(join(out, 'last', 'state.json'), '{"epoch": 3, "best');
    await assert.rejects(
      train({ ...common, epochs: 4, data: inMemoryData(samples, S, 1), out, resume: true }),
      (e: Error) => e.name === 'StsError' && /state\.json: damaged JSON .*delete the folder to train again/.test(e.message),
    );
  });

  it('keeps the number of tensors constant over training steps', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sts-leak-'));
    const data = inMemoryData(discSamples(8, S, 1, 3), S, 1);
    const counts: number[] = [];
    await train({ model: spec, data, out, seed: 1, epochs: 3, batchSize: 4, learningRate: 1e-3, onProgress: () => counts.push(tf.memory().numTensors) });
    assert.equal(new Set(counts.slice(2)).size, 1, `tensor counts: ${counts.join(' ')}`);
  });

  it('refuses bad settings before training starts, naming the argument', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sts-bad-'));
    const data = inMemoryData(discSamples(4, S, 1, 4), S, 1);
    const ok = { model: spec, data, out, seed: 1, epochs: 1, batchSize: 2, learningRate: 1e-3 };
    await assert.rejects(train({ ...ok, model: { ...spec, size: 40 } }), /--size: must be a multiple of 16 \(the networks halve it four times\), got 40/);
    await assert.rejects(train({ ...ok, model: { ...spec, name: 'vgg' as never } }), /--model: unknown model 'vgg'/);
    await assert.rejects(train({ ...ok, model: { ...spec, channels: 3 } }), /channels: the model takes 3 channels, the data has 1/);
    await assert.rejects(train({ ...ok, epochs: 0 }), /--epochs: must be a positive integer/);
    await assert.rejects(train({ ...ok, learningRate: -1 }), /--lr: must be a positive number/);
    await assert.rejects(train({ ...ok, data: inMemoryData([], S, 1) }), /the training set gave no batches/);
    assert.ok(!existsSync(join(out, 'best')));
  });
});
