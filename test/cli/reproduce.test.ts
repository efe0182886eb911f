import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runReproduce } from '../../src/cli/commands/reproduce.js';
import { encodeNrrd } from '../../src/io/nrrd.js';
import { packageRoot } from '../../src/paths.js';
import { buildSemiSyntheticAorta } from '../../src/datasets/semi-synthetic-aorta.js';
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

  it('runs on one-channel CT slices and says so in the report when the set is semi-synthetic', async () => {
    const root = tempDir('sts-reproduce-ct-');
    const [w, h, d] = [40, 40, 4];
    // Ten patients (the AVT split is by patient, 70/20/10), each an aorta-like disc on slices 1..3.
    for (let p = 0; p < 10; p++) {
      const labels = new Uint8Array(w * h * d);
      for (let z = 1; z < d; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - 18 - p) ** 2 + (y - 20) ** 2 <= 16) labels[z * w * h + y * w + x] = 1;
      mkdirSync(join(root, 'labels', `P${p}`), { recursive: true });
      writeFileSync(join(root, 'labels', `P${p}`, `P${p}.seg.nrrd`), encodeNrrd({ width: w, height: h, depth: d, data: labels, spacing: [4, 4, 3] }));
    }
    const data = await buildSemiSyntheticAorta(join(root, 'labels'), join(root, 'ct'));
    await runReproduce(
      { data, model: 'unet', sizes: [16], epochs: [1], features: 4, batch: 4, seed: 1, out: join(root, 'report'), runs: join(root, 'runs'), dropPolicy: 'reference', fallback: 'empty', examples: 1 },
      [],
    );
    const report = readFileSync(join(root, 'report', 'report.md'), 'utf8');
    assert.match(report, /^# ct-unet: baseline vs Segment-then-Segment \(semi-synthetic CT\)/);
    assert.match(report, /\*\*Semi-synthetic data\.\*\*.*not AVT results/);
    // The report folder is outside the checkout: the commit is still read (git refuses a pathspec outside it).
    if (existsSync(join(packageRoot, '.git'))) assert.match(report, /Commit: [0-9a-f]{40}[ ;]/);
    const csv = readFileSync(join(root, 'report', 'per_image.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 1 + 3 * 2, 'one test patient of three slices, baseline and sts each');
  });
});
