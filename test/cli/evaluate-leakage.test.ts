/**
 * `sts evaluate` on images a pair was trained or validated on: a catalog pair (or a training run) keeps the split
 * it was trained on, and the evaluation names how many of the scored images are in its train and valid parts and
 * how to score the held-out part alone; --strict refuses. Before, such an evaluation scored them without a word.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { splitsOfModels, trainingOverlap } from '../../src/experiments/leakage.js';
import { makeImagesMasks } from '../support/datasets.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ids = ['a', 'b', 'c', 'd', 'e'];
const split = (train: string[], valid: string[], test: string[]) => JSON.stringify({ version: 1, seed: 42, policy: { ratios: [0.6, 0.2, 0.2], by: 'sample' }, root: 'data', layout: 'images-masks', train, valid, test });

describe('sts evaluate and the split a pair was trained on', () => {
  it('warns with the counts and the --split to use, scores the held-out part alone with it, and refuses with --strict', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sts-leakage-'));
    await makeImagesMasks(join(root, 'data'), ids);
    const pair = join(root, 'models', 'tiny');
    for (const stage of ['rough', 'fine']) cpSync(join(FIXTURE_MODELS, `cells-${stage}`), join(pair, stage), { recursive: true });
    const splitFile = join(pair, 'split.json');
    writeFileSync(splitFile, split(['a', 'b', 'c'], ['d'], ['e']));
    const sts = (...args: string[]) => {
      const r = spawnSync(process.execPath, [cli, 'evaluate', '--model', 'tiny', '--data', join(root, 'data'), ...args], { encoding: 'utf8', env: { ...process.env, STS_MODELS_DIR: join(root, 'models'), STS_ALLOCATOR: 'system' } });
      return { code: r.status, err: r.stderr, out: r.stdout };
    };

    const all = sts('--out', join(root, 'all'));
    assert.equal(all.code, 0, all.err);
    assert.match(
      all.err,
      new RegExp(
        `^warning: 3 of the 5 images scored are in the train part and 1 in the valid part of ${splitFile}, the split the tiny pair was trained on: ` +
          `their scores say how well it fits its own data, not how it does on new images; score only the held-out part with --split ${splitFile} \\(its test part, the default --part\\), or add --strict to refuse such an evaluation$`,
        'm',
      ),
    );
    assert.ok(existsSync(join(root, 'all', 'per_image.csv')), 'a warning, not a refusal');

    const heldOut = sts('--split', splitFile, '--out', join(root, 'held-out'));
    assert.equal(heldOut.code, 0, heldOut.err);
    assert.doesNotMatch(heldOut.err, /warning: .* in the (train|valid) part/);
    assert.match(heldOut.err + heldOut.out, /evaluating 1 test images/);

    const strict = sts('--strict', '--out', join(root, 'strict'));
    assert.equal(strict.code, 1);
    assert.match(strict.err, new RegExp(`^sts: error: --strict: 3 of the 5 images scored are in the train part and 1 in the valid part of ${splitFile}, the split the tiny pair was trained on: .*score only the held-out part with --split ${splitFile} \\(its test part, the default --part\\)$`, 'm'));
    assert.ok(!existsSync(join(root, 'strict', 'per_image.csv')), 'nothing scored');
  });

  it("finds a training run's split beside its best/ model, says a split once for both models, and an .onnx model has none", async () => {
    const root = mkdtempSync(join(tmpdir(), 'sts-leakage-runs-'));
    for (const stage of ['rough', 'fine']) {
      mkdirSync(join(root, stage, 'best'), { recursive: true });
      writeFileSync(join(root, stage, 'split.json'), split(['a', 'b', 'c'], ['d'], ['e']));
    }
    const splits = await splitsOfModels([join(root, 'rough', 'best'), join(root, 'fine', 'best'), join(root, 'x.onnx')]);
    assert.deepEqual(splits.map((s) => [s.path, s.owner]), [
      [join(root, 'rough', 'split.json'), `the model ${join(root, 'rough', 'best')}`],
      [join(root, 'fine', 'split.json'), `the model ${join(root, 'fine', 'best')}`],
    ]);
    const overlap = trainingOverlap(['d', 'e'].map((id) => ({ id })), splits);
    assert.deepEqual(overlap.map((o) => [o.path, o.train, o.valid]), [[join(root, 'rough', 'split.json'), 0, 1]], 'the same split, said once');
    assert.deepEqual(trainingOverlap([{ id: 'e' }], splits), [], 'the test part alone: nothing to say');
  });
});
