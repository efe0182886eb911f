/** Model folders that are not what they claim: each refused with a message naming the file and what to do. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel, saveModel } from '../../src/engine/model-files.js';
import { createModel } from '../../src/models/index.js';
import '../support/engine.js';

describe('model files', () => {
  it('name a JSON that is not a model, truncated weights and NaN weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-model-files-'));
    const model = createModel({ name: 'unet', size: 16, channels: 1, features: 2 }, { seed: 3 });
    await saveModel(join(dir, 'good'), model);
    model.dispose();
    (await loadModel(join(dir, 'good'))).model.dispose();
    const json = readFileSync(join(dir, 'good', 'model.json'));
    const weights = readFileSync(join(dir, 'good', 'weights.bin'));

    await saveModel(join(dir, 'other'), createModel({ name: 'unet', size: 16, channels: 1, features: 2 }));
    writeFileSync(join(dir, 'other', 'model.json'), JSON.stringify({ name: 'not a model' }));
    await assert.rejects(loadModel(join(dir, 'other')), /other\/model\.json: not a TensorFlow\.js layers model .*give a model folder written by 'sts train'/);

    await saveModel(join(dir, 'cut'), createModel({ name: 'unet', size: 16, channels: 1, features: 2 }));
    writeFileSync(join(dir, 'cut', 'model.json'), json);
    writeFileSync(join(dir, 'cut', 'weights.bin'), weights.subarray(0, 1000));
    await assert.rejects(loadModel(join(dir, 'cut')), /cut\/weights\.bin: holds 1000 bytes but model\.json describes \d+: the weights are truncated/);

    const nan = Buffer.from(weights);
    new Float32Array(nan.buffer, nan.byteOffset, nan.length / 4)[5] = Number.NaN;
    await saveModel(join(dir, 'nan'), createModel({ name: 'unet', size: 16, channels: 1, features: 2 }));
    writeFileSync(join(dir, 'nan', 'model.json'), json);
    writeFileSync(join(dir, 'nan', 'weights.bin'), nan);
    await assert.rejects(loadModel(join(dir, 'nan')), /nan: the model's weights hold NaN or infinite values .*lower --lr/);
  });
});
