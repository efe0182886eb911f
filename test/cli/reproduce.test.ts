import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runReproduce } from '../../src/cli/commands/reproduce.js';
import { makeImagesMasks, tempDir } from '../support/datasets.js';
import '../support/engine.js';

describe('sts reproduce', () => {
  it('writes the report and evaluates again only when a run was extended', async () => {
    const root = tempDir('sts-reproduce-');
    const data = join(root, 'data');
    await makeImagesMasks(data, Array.from({ length: 20 }, (_, i) => `s${i}`), { w: 40, h: 40 });
    const options = (epochs: number) => ({
      data, model: 'unet' as const, sizes: [16], epochs: [epochs], features: 4, batch: 4, seed: 1,
      out: join(root, 'report'), runs: join(root, 'runs'), dropPolicy: 'reference' as const, fallback: 'empty' as const, examples: 1,
    });
    const evalFile = join(root, 'runs', 'data-unet-s16-evaluation.json');
    const savedEpochs = () => (JSON.parse(JSON.parse(readFileSync(evalFile, 'utf8')).evaluatedWith) as { models: { epochs: number }[] }).models.map((m) => m.epochs);

    await runReproduce(options(2), []);
    assert.deepEqual(savedEpochs(), [2, 1]);
    const csv = readFileSync(join(root, 'report', 'per_image.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'size,method,image,dsc,iou,precision,recall,ms');
    assert.equal(csv.length, 1 + 2 * 2, 'two test images, baseline and sts each');
    const first = statSync(evalFile).mtimeMs;

    await runReproduce(options(2), []);
    assert.equal(statSync(evalFile).mtimeMs, first, 'same models: the saved evaluation is reused');

    await runReproduce(options(4), []);
    assert.deepEqual(savedEpochs(), [4, 2], 'extended runs: evaluated again with the new checkpoints');
  });
});
