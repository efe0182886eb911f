/**
 * `sts train --targets instances`: the fine network learns the foreground and the object cores from instance labels
 * (an instances/ folder of 16-bit label maps, or the Kaggle layout's one mask per object), and says what is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { coreOfLabels } from '../../src/instances/core-target.js';
import { readLabelMap } from '../../src/io/label-maps.js';
import { maxLabel } from '../../src/geometry/label-map.js';
import { finePair } from '../../src/train/sampler.js';
import { createModel } from '../../src/models/index.js';
import { saveModel } from '../../src/engine/model-files.js';
import '../support/engine.js';
import { seededRng } from '../../src/random.js';
import { makeImagesMasks, makeStage1, pattern, tempDir, writeRaw } from '../support/datasets.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const sts = (...args: string[]) => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, STS_THREADS: '1' } });
  return { code: r.status, err: r.stderr };
};
const trainArgs = (data: string, out: string) => ['train', '--data', data, '--stage', 'fine', '--targets', 'instances', '--size', '16', '--epochs', '2', '--batch', '2', '--features', '2', '--out', out];

/** images/, masks/ and instances/: two touching rectangles per image, labels 1 and 2. */
async function makeInstances(root: string, ids: string[], w = 24, h = 20) {
  for (const [k, id] of ids.entries()) {
    const { image } = pattern(w, h, [0, 0, 0, 0]);
    const labels = new Uint16Array(w * h);
    for (let y = 4; y < 12; y++) for (let x = 2 + k; x < 18 + k && x < w; x++) labels[y * w + x] = x < 10 + k ? 1 : 2;
    await writeRaw(join(root, 'images', `${id}.png`), image, w, h, 3);
    await writeRaw(join(root, 'masks', `${id}.png`), Uint8Array.from(labels, (v) => (v ? 255 : 0)), w, h, 1);
    await writeRaw(join(root, 'instances', `${id}.png`), labels, w, h, 1);
  }
}

describe('instance training', () => {
  it('trains a two-output fine network from an instances/ folder and records it', async () => {
    const root = tempDir('sts-inst-');
    await makeInstances(join(root, 'data'), Array.from({ length: 10 }, (_, i) => `s${i}`));
    const r = sts(...trainArgs(join(root, 'data'), join(root, 'run')), '--gap-weight', '10', '--core-depth', '0.6');
    assert.equal(r.code, 0, r.err);
    const model = JSON.parse(readFileSync(join(root, 'run', 'best', 'model.json'), 'utf8'));
    assert.equal(model.userDefinedMetadata.sts.targets, 'instances');
    assert.deepEqual(model.userDefinedMetadata.sts.gapWeights, { w0: 10, sigma: 3 });
    assert.equal(model.userDefinedMetadata.sts.coreDepth, 0.6);
    // Fine-tuning that network without --targets keeps it an instance network (the option's default once refused it).
    const tuned = sts('train', '--init', join(root, 'run', 'best'), '--stage', 'fine', '--data', join(root, 'data'), '--epochs', '1', '--batch', '2', '--out', join(root, 'tuned'));
    assert.equal(tuned.code, 0, tuned.err);
    assert.equal(JSON.parse(readFileSync(join(root, 'tuned', 'best', 'model.json'), 'utf8')).userDefinedMetadata.sts.targets, 'instances');
    assert.equal(model.userDefinedMetadata.sts.model.outputs, 2);
    const layers = model.modelTopology.config.layers as { name: string; config: { filters?: number } }[];
    assert.equal(layers.find((l) => l.name === 'head')?.config.filters, 2);

  });

  it('a two-output pair predicts instances through sts predict: labels.png holds the objects of objects.csv', async () => {
    // Networks made sure of their answer: a head bias of +10 says foreground (and core) everywhere, so the rough
    // pass finds the whole image, the fine network runs on its crop, and one object covers it.
    const root = tempDir('sts-inst-predict-');
    const sure = async (outputs: 1 | 2, stage: string) => {
      const model = createModel({ name: 'unet', size: 16, channels: 3, features: 2, outputs }, { seed: 1 });
      const head = model.getLayer('head');
      const [kernel, bias] = head.getWeights();
      head.setWeights([kernel.mul(0), bias.add(10)]);
      await saveModel(join(root, stage), model, { sts: { model: { name: 'unet', size: 16, outputs }, stage } });
      model.dispose();
    };
    await sure(1, 'rough');
    await sure(2, 'fine');
    const { image } = pattern(40, 30, [0, 0, 0, 0]);
    await writeRaw(join(root, 'in', 'a.png'), image, 40, 30, 3);
    const out = join(root, 'out');
    const p = sts('predict', '--rough', join(root, 'rough'), '--fine', join(root, 'fine'), '--out', out, join(root, 'in', 'a.png'));
    assert.equal(p.code, 0, p.err);
    const summary = JSON.parse(readFileSync(join(out, 'a', 'summary.json'), 'utf8'));
    assert.equal(summary.objectKind, 'instances');
    assert.equal(summary.objects, 1);
    assert.ok(summary.files.includes('labels.png'), summary.files.join(', '));
    const labels = await readLabelMap(join(out, 'a', 'labels.png'));
    assert.equal(maxLabel(labels), 1);
    assert.equal(labels.data.filter((v) => v === 1).length, 40 * 30, 'the object covers the image');
    assert.equal(readFileSync(join(out, 'a', 'objects.csv'), 'utf8').trim().split('\n').length, 2);
  });

  it('reads the Kaggle layout (one mask per object) as instances', async () => {
    const root = tempDir('sts-inst-kaggle-');
    await makeStage1(join(root, 'stage1'), Array.from({ length: 10 }, (_, i) => `id${i}`));
    const r = sts(...trainArgs(join(root, 'stage1'), join(root, 'run')));
    assert.equal(r.code, 0, r.err);
  });

  it('names what is missing: instance labels, or the fine stage', async () => {
    const root = tempDir('sts-inst-missing-');
    await makeImagesMasks(join(root, 'data'), Array.from({ length: 10 }, (_, i) => `s${i}`));
    const r = sts(...trainArgs(join(root, 'data'), join(root, 'run')));
    assert.equal(r.code, 1);
    assert.match(r.err, /s\d\.png: has no instance label map; instance training needs instances\/s\d\.png \(16-bit, 0 = background, one label per object\) beside masks\//);
    const rough = sts('train', '--data', join(root, 'data'), '--stage', 'rough', '--targets', 'instances', '--out', join(root, 'run2'));
    assert.equal(rough.code, 1);
    assert.match(rough.err, /--targets: instances applies to the fine stage/);
    const semantic = sts('train', '--data', join(root, 'data'), '--stage', 'fine', '--gap-weight', '10', '--out', join(root, 'run3'));
    assert.equal(semantic.code, 1);
    assert.match(semantic.err, /--gap-weight: weighs the gaps between object cores, which only --targets instances learns/);
    const depth = sts('train', '--data', join(root, 'data'), '--stage', 'fine', '--targets', 'instances', '--core-depth', '1', '--out', join(root, 'run4'));
    assert.equal(depth.code, 1);
    assert.match(depth.err, /--core-depth: must be a number from 0 up to \(not including\) 1, got '1'/);
  });

  it('the sampler cuts the cores with the crop, inside the crop mask', () => {
    const w = 40;
    const h = 30;
    const labels = new Uint16Array(w * h);
    for (let y = 8; y < 20; y++) for (let x = 6; x < 30; x++) labels[y * w + x] = x < 18 ? 1 : 2;
    const mask = { width: w, height: h, channels: 1 as const, data: Uint8Array.from(labels, (v) => (v ? 1 : 0)) };
    const core = { width: w, height: h, channels: 1 as const, data: coreOfLabels({ width: w, height: h, data: labels }) };
    const image = { width: w, height: h, channels: 3 as const, data: new Uint8Array(w * h * 3) };
    for (let seed = 0; seed < 5; seed++) {
      const p = finePair({ image, mask, core }, seededRng(seed), { size: 16, cores: true, dropPolicy: 'clip' });
      assert.ok(p.core, 'a core plane');
      let inside = 0;
      let cores = 0;
      p.core.data.forEach((v, i) => {
        cores += v;
        if (v && p.mask.data[i]) inside++;
      });
      assert.ok(cores > 0, 'the crop holds core pixels');
      assert.equal(inside, cores, 'cores lie inside the foreground');
    }
  });
});
