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
import { coreOfLabels, depthOfLabels } from '../../src/instances/core-target.js';
import { readLabelMap } from '../../src/io/label-maps.js';
import { maxLabel } from '../../src/geometry/label-map.js';
import { epochBatches, finePair } from '../../src/train/sampler.js';
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

  it('--core-target depth: the core channel learns the depth, recorded, kept when fine-tuned, refused where it means nothing', async () => {
    const root = tempDir('sts-depth-');
    await makeInstances(join(root, 'data'), Array.from({ length: 10 }, (_, i) => `s${i}`));
    const r = sts(...trainArgs(join(root, 'data'), join(root, 'run')), '--core-target', 'depth');
    assert.equal(r.code, 0, r.err);
    const meta = JSON.parse(readFileSync(join(root, 'run', 'best', 'model.json'), 'utf8')).userDefinedMetadata.sts;
    assert.equal(meta.coreTarget, 'depth');
    assert.equal(meta.model.outputs, 2);
    const tuned = sts('train', '--init', join(root, 'run', 'best'), '--stage', 'fine', '--data', join(root, 'data'), '--epochs', '1', '--batch', '2', '--out', join(root, 'tuned'));
    assert.equal(tuned.code, 0, tuned.err);
    assert.equal(JSON.parse(readFileSync(join(root, 'tuned', 'best', 'model.json'), 'utf8')).userDefinedMetadata.sts.coreTarget, 'depth');
    const semantic = sts('train', '--data', join(root, 'data'), '--stage', 'fine', '--size', '16', '--epochs', '1', '--core-target', 'depth', '--out', join(root, 'sem'));
    assert.equal(semantic.code, 1, semantic.err);
    assert.match(semantic.err, /--core-target.*--targets instances/);
    const both = sts(...trainArgs(join(root, 'data'), join(root, 'both')), '--core-target', 'depth', '--core-depth', '0.6');
    assert.match(both.err, /--core-depth.*leave --core-depth out/);
  });

  it('--targets flows: a three-output fine network learns the centre flows, recorded, kept when fine-tuned', async () => {
    const root = tempDir('sts-flows-');
    await makeInstances(join(root, 'data'), Array.from({ length: 10 }, (_, i) => `s${i}`));
    const r = sts(...trainArgs(join(root, 'data'), join(root, 'run')).map((a) => (a === 'instances' ? 'flows' : a)));
    assert.equal(r.code, 0, r.err);
    const model = JSON.parse(readFileSync(join(root, 'run', 'best', 'model.json'), 'utf8'));
    assert.equal(model.userDefinedMetadata.sts.targets, 'flows');
    assert.equal(model.userDefinedMetadata.sts.model.outputs, 3);
    const layers = model.modelTopology.config.layers as { name: string; config: { filters?: number } }[];
    assert.equal(layers.find((l) => l.name === 'head')?.config.filters, 3);
    const tuned = sts('train', '--init', join(root, 'run', 'best'), '--stage', 'fine', '--data', join(root, 'data'), '--epochs', '1', '--batch', '2', '--out', join(root, 'tuned'));
    assert.equal(tuned.code, 0, tuned.err);
    assert.equal(JSON.parse(readFileSync(join(root, 'tuned', 'best', 'model.json'), 'utf8')).userDefinedMetadata.sts.targets, 'flows');
    const asCores = sts('train', '--init', join(root, 'run', 'best'), '--stage', 'fine', '--targets', 'instances', '--data', join(root, 'data'), '--epochs', '1', '--out', join(root, 'cores'));
    assert.match(asCores.err, /instances needs a network with 2 output maps.*has 3/);
    const weighted = sts(...trainArgs(join(root, 'data'), join(root, 'w')).map((a) => (a === 'instances' ? 'flows' : a)), '--flow-weight', '10');
    assert.equal(weighted.code, 0, weighted.err);
    assert.equal(JSON.parse(readFileSync(join(root, 'w', 'best', 'model.json'), 'utf8')).userDefinedMetadata.sts.flowWeight, 10);
    const wrong = sts(...trainArgs(join(root, 'data'), join(root, 'wrong')), '--flow-weight', '10');
    assert.match(wrong.err, /--flow-weight.*only --targets flows/);
  });

  it('the depth target reaches the batch as 0..1', async () => {
    const width = 12;
    const height = 12;
    const labels = new Uint16Array(width * height);
    for (let y = 2; y < 9; y++) for (let x = 2; x < 9; x++) labels[y * width + x] = 1;
    const map = { width, height, data: labels };
    const loaded = {
      image: { width, height, channels: 3 as const, data: new Uint8Array(width * height * 3) },
      mask: { width, height, channels: 1 as const, data: Uint8Array.from(labels, (v) => (v ? 1 : 0)) },
      labels: map,
      core: { width, height, channels: 1 as const, data: depthOfLabels(map) },
    };
    const batches = epochBatches({ load: async () => loaded }, [{ id: 'a', kind: 'image', imagePath: 'a.png', maskPath: 'a.png' } as never], 0, {
      stage: 'fine', size: 12, batchSize: 1, seed: 1, shuffle: false, augment: false, jitter: 0, cores: true, coreTarget: 'depth', padding: 0, dropPolicy: 'clip',
    });
    const { value } = await batches.next();
    const cores: Float32Array = value!.cores!;
    assert.equal(Math.max(...cores), 1);
    assert.ok(cores.some((v) => v > 0 && v < 0.5), 'the border ring is shallow');
    assert.ok(cores.every((v) => v >= 0 && v <= 1));
  });

  for (const outputs of [2, 3] as const) it(`a ${outputs === 2 ? 'core' : 'flow'} pair predicts instances through sts predict: labels.png holds the objects of objects.csv`, async () => {
    // Networks made sure of their answer: a head bias of +10 says foreground (and core) everywhere, so the rough
    // pass finds the whole image, the fine network runs on its crop, and one object covers it.
    const root = tempDir('sts-inst-predict-');
    const sure = async (outputs: 1 | 2 | 3, stage: string) => {
      const model = createModel({ name: 'unet', size: 16, channels: 3, features: 2, outputs }, { seed: 1 });
      const head = model.getLayer('head');
      const [kernel, bias] = head.getWeights();
      head.setWeights([kernel.mul(0), bias.add(10)]);
      await saveModel(join(root, stage), model, { sts: { model: { name: 'unet', size: 16, outputs }, stage } });
      model.dispose();
    };
    await sure(1, 'rough');
    // (a flow network's +10 flows all point down and right: every pixel ends at one centre)
    await sure(outputs, 'fine');
    const { image } = pattern(40, 30, [0, 0, 0, 0]);
    await writeRaw(join(root, 'in', 'a.png'), image, 40, 30, 3);
    const out = join(root, 'out');
    const p = sts('predict', '--rough', join(root, 'rough'), '--fine', join(root, 'fine'), '--out', out, join(root, 'in', 'a.png'));
    assert.equal(p.code, 0, p.err);
    const summary = JSON.parse(readFileSync(join(out, 'a', 'summary.json'), 'utf8'));
    assert.equal(summary.objectKind, 'instances');
    assert.ok(summary.files.includes('labels.png'), summary.files.join(', '));
    const labels = await readLabelMap(join(out, 'a', 'labels.png'));
    // A core network sure of its cores everywhere gives one object covering the image. A flow network whose flows
    // all point down and right sends every pixel to the image's edges, where its objects are not what those flows
    // say, so they are dropped (follow-flows.ts, maxFlowError): the outputs must agree with each other all the same.
    if (outputs === 2) {
      assert.equal(summary.objects, 1);
      assert.equal(labels.data.filter((v) => v > 0).length, 40 * 30, 'the object covers the image');
    }
    assert.equal(maxLabel(labels), summary.objects);
    assert.equal(readFileSync(join(out, 'a', 'objects.csv'), 'utf8').trim().split('\n').length, summary.objects + 1);
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
