/**
 * Fine-tuning: `sts train --init` starts from a pair's weights (the architecture read from the model), `sts finetune`
 * adapts both networks of a pair and writes a pair folder every command takes, and what cannot work is named.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import '../support/engine.js';
import { createModel, isEncoderLayer } from '../../src/models/index.js';
import { train } from '../../src/train/trainer.js';
import { saveModel } from '../../src/engine/model-files.js';
import { loadModelPair } from '../../src/catalog/catalog.js';
import { openPretrainedWeights } from '../../src/catalog/pretrained-weights.js';
import { SCRATCH_LEARNING_RATE, prepareTraining } from '../../src/cli/commands/train.js';
import { MIN_FINETUNE_IMAGES, finetuneSplit } from '../../src/cli/commands/finetune.js';
import { makeImagesMasks, pattern, tempDir, writeRaw } from '../support/datasets.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const sts = (...args: string[]) => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, STS_THREADS: '1' } });
  return { code: r.status, err: r.stderr, out: r.stdout };
};

/** A pair folder as the catalog's: rough/ and fine/ U-Nets at S = 16 with 2 features, seeded, recording their spec. */
async function makePair(root: string, { channels = 3, size = 16 }: { channels?: 1 | 3; size?: number } = {}): Promise<string> {
  for (const [seed, stage] of [[7, 'rough'], [8, 'fine']] as const) {
    const spec = { name: 'unet' as const, size, channels, features: 2 };
    const model = createModel(spec, { seed });
    await saveModel(join(root, stage), model, { sts: { model: spec, stage } });
    model.dispose();
  }
  return root;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `img${i}`);

describe('fine-tuning', () => {
  it('--init fills the new network with the pair\'s weights: before any step it answers as the source does', async () => {
    const root = tempDir('sts-init-');
    const pair = await makePair(join(root, 'pair'));
    await makeImagesMasks(join(root, 'data'), ids(6));
    const prepared = await prepareTraining({ data: join(root, 'data'), stage: 'rough', out: join(root, 'run'), init: pair, seed: 1, resize: 'nearest', dropPolicy: 'reference' }, { log: () => {} });
    assert.deepEqual(prepared.options.model, { name: 'unet', size: 16, channels: 3, features: 2 }, 'the architecture is the --init model\'s');
    assert.equal(prepared.options.learningRate, 1e-4, 'fine-tuning defaults');
    assert.equal(prepared.options.patience, 6);
    const fresh = createModel(prepared.options.model, { seed: 99 });
    prepared.options.initialWeights!(fresh);
    const source = (await openPretrainedWeights(pair, 'rough')).model;
    const x = tf.randomUniform([2, 16, 16, 3], 0, 255, 'float32', 3);
    const [a, b] = [source.predict(x) as tf.Tensor, fresh.predict(x) as tf.Tensor];
    assert.deepEqual(Array.from(await b.data()), Array.from(await a.data()));
    const unrelated = createModel(prepared.options.model, { seed: 99 }).predict(x) as tf.Tensor;
    assert.notDeepEqual(Array.from(await unrelated.data()), Array.from(await a.data()), 'a network not filled answers otherwise');
    prepared.init?.model.dispose();
  });

  it('--scratch (fresh weights) keeps the --init model\'s architecture and budget, takes none of its weights, and says so', async () => {
    const root = tempDir('sts-fresh-');
    const pair = await makePair(join(root, 'pair'));
    await makeImagesMasks(join(root, 'data'), ids(6));
    const lines: string[] = [];
    const common = { data: join(root, 'data'), stage: 'rough', init: pair, seed: 1, resize: 'nearest', dropPolicy: 'reference' } as const;
    const tuned = await prepareTraining({ ...common, out: join(root, 'tuned') }, { log: () => {} });
    const fresh = await prepareTraining({ ...common, out: join(root, 'fresh'), freshWeights: true }, { log: (l) => lines.push(l) });
    assert.deepEqual(fresh.options.model, tuned.options.model, 'the same architecture');
    assert.equal(fresh.options.epochs, tuned.options.epochs, 'the same budget');
    assert.equal(fresh.options.patience, tuned.options.patience);
    assert.equal(fresh.options.learningRate, SCRATCH_LEARNING_RATE);
    assert.equal(fresh.options.initialWeights, undefined, 'no weights copied');
    assert.deepEqual(fresh.options.metadata?.scratch, { architectureOf: pair });
    assert.equal(fresh.options.metadata?.init, undefined, 'not recorded as a fine-tuning');
    const described = lines.find((l) => l.startsWith('rough unet at S = 16'));
    assert.match(described ?? '', new RegExp(`fresh weights in the architecture of .*, lr ${SCRATCH_LEARNING_RATE},`));
    assert.doesNotMatch(described ?? '', /fine-tuned from/);
    const withLr = await prepareTraining({ ...common, out: join(root, 'fresh-lr'), freshWeights: true, lr: 3e-4 }, { log: () => {} });
    assert.equal(withLr.options.learningRate, 3e-4, '--lr still wins');
    for (const p of [tuned, fresh, withLr]) p.init?.model.dispose();
    await assert.rejects(prepareTraining({ ...common, init: undefined, out: join(root, 'none'), freshWeights: true }, { log: () => {} }), /--scratch.*--init/);
  });

  it('--scale-jitter is taken by a fixed-scale rough training and recorded; elsewhere it is named', async () => {
    const root = tempDir('sts-scale-jitter-');
    const pair = await makePair(join(root, 'pair'));
    await makeImagesMasks(join(root, 'data'), ids(6));
    const common = { data: join(root, 'data'), init: pair, seed: 1, resize: 'nearest', dropPolicy: 'reference', scaleJitter: 0.5 } as const;
    const p = await prepareTraining({ ...common, stage: 'rough', out: join(root, 'a'), roughScale: 2 }, { log: () => {} });
    assert.equal(p.options.metadata?.scaleJitter, 0.5);
    p.init?.model.dispose();
    await assert.rejects(prepareTraining({ ...common, stage: 'rough', out: join(root, 'b') }, { log: () => {} }), /--scale-jitter.*--rough-scale/, 'a whole-image rough input has no scale to vary');
    await assert.rejects(prepareTraining({ ...common, stage: 'fine', out: join(root, 'c') }, { log: () => {} }), /--scale-jitter/);
  });

  it('--freeze-encoder keeps the pretrained encoder still for its epochs while the decoder learns, then trains it', async () => {
    const root = tempDir('sts-freeze-');
    const pair = await makePair(join(root, 'pair'));
    await makeImagesMasks(join(root, 'data'), ids(6));
    const options = { data: join(root, 'data'), stage: 'rough', out: join(root, 'run'), init: pair, seed: 1, resize: 'nearest', dropPolicy: 'reference', freezeEncoder: 1, lr: 1e-2, batch: 2, repeat: 1 } as const;
    const source = (await openPretrainedWeights(pair, 'rough')).model;
    // The learned weights: batch norm's running statistics follow the new images even while frozen.
    const weightsOf = (model: tfl.LayersModel, encoder: boolean) =>
      model.layers.filter((l) => isEncoderLayer('unet', l.name) === encoder).flatMap((l) => l.trainableWeights.map((w) => Array.from(w.read().dataSync())));
    const run = async (epochs: number, resume: boolean) => {
      const prepared = await prepareTraining({ ...options, epochs, resume }, { log: () => {} });
      const result = await train(prepared.options);
      prepared.init?.model.dispose();
      return result.model;
    };
    const first = await run(1, false);
    assert.equal(weightsOf(first, true).length, weightsOf(source, true).length);
    assert.deepEqual(weightsOf(first, true), weightsOf(source, true), 'the encoder as it was after the frozen epoch');
    assert.notDeepEqual(weightsOf(first, false), weightsOf(source, false), 'the decoder learned');
    first.dispose();
    const second = await run(2, true);
    assert.notDeepEqual(weightsOf(second, true), weightsOf(source, true), 'the encoder learns from the next epoch on');
    second.dispose();
    await assert.rejects(prepareTraining({ ...options, init: undefined, out: join(root, 'x') }, { log: () => {} }), /--freeze-encoder.*--init/);
  });

  it('sts finetune writes a pair that --model <folder> and loadModelPair take, with its split and card', async () => {
    const root = tempDir('sts-finetune-');
    const pair = await makePair(join(root, 'pair'));
    await makeImagesMasks(join(root, 'data'), ids(8));
    const out = join(root, 'tuned');
    const r = sts('finetune', '--model', pair, '--data', join(root, 'data'), '--out', out, '--epochs', '1', '--batch', '2');
    assert.equal(r.code, 0, r.err);
    for (const f of ['rough/model.json', 'fine/model.json', 'split.json', 'README.md']) assert.ok(existsSync(join(out, f)), f);
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    assert.deepEqual([split.train.length, split.valid.length, split.test.length], [5, 1, 2]);
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    assert.match(card, /5 images trained on, 1 used to stop early, 2 held out/);
    assert.match(card, /Before .*as it is/);
    assert.equal(card.match(/\| 16 \| Segment-then-Segment \|/g)?.length, 2, 'before and after tables have the StS row');
    const meta = JSON.parse(readFileSync(join(out, 'rough', 'model.json'), 'utf8')).userDefinedMetadata.sts;
    assert.equal(meta.init.source, pair);
    const loaded = await loadModelPair(out);
    assert.equal(loaded.size, 16);
    loaded.rough.dispose();
    loaded.fine.dispose();
    const { image } = pattern(30, 24, [4, 4, 8, 8]);
    await writeRaw(join(root, 'in', 'a.png'), image, 30, 24, 3);
    const p = sts('predict', '--model', out, '--out', join(root, 'predicted'), join(root, 'in', 'a.png'));
    assert.equal(p.code, 0, p.err);
    assert.match(p.err, /the pair folder/);
    assert.ok(existsSync(join(root, 'predicted', 'a', 'summary.json')));
    // A second run into the same --out is not silently a new split: it says how to continue, with or without --split.
    for (const split of [[], ['--split', join(out, 'split.json')]]) {
      const again = sts('finetune', '--model', pair, '--data', join(root, 'data'), '--out', out, '--epochs', '1', '--batch', '2', ...split);
      assert.notEqual(again.code, 0);
      assert.match(again.err, /--resume/);
    }
    // Interrupted after the rough network (the fine one never started): --resume keeps the rough run and starts the fine one.
    rmSync(join(`${out}.training`, 'fine'), { recursive: true });
    const resumed = sts('finetune', '--model', pair, '--data', join(root, 'data'), '--out', out, '--epochs', '1', '--batch', '2', '--resume');
    assert.equal(resumed.code, 0, resumed.err);
    assert.ok(existsSync(join(`${out}.training`, 'fine', 'best', 'model.json')));
  });

  it('names a dataset too small to hold anything out, and a pair made for other images or another S', async () => {
    assert.throws(() => finetuneSplit(ids(MIN_FINETUNE_IMAGES - 1), { root: '/data/mine' }), /\/data\/mine holds 2 labelled images; fine-tuning needs at least 3.*label more images/);
    const s = finetuneSplit(ids(3));
    assert.deepEqual([s.train.length, s.valid.length, s.test.length], [1, 1, 1]);
    const root = tempDir('sts-finetune-bad-');
    const gray = await makePair(join(root, 'gray'), { channels: 1 });
    await makeImagesMasks(join(root, 'data'), ids(6));
    const small = await makeImagesMasks(join(root, 'two'), ids(2)).then(() => join(root, 'two'));
    const tooSmall = sts('finetune', '--model', gray, '--data', small, '--out', join(root, 'x'));
    assert.notEqual(tooSmall.code, 0);
    assert.match(tooSmall.err, /holds 2 labelled images; fine-tuning needs at least 3/);
    const channels = sts('train', '--init', gray, '--stage', 'rough', '--data', join(root, 'data'), '--out', join(root, 'r1'));
    assert.notEqual(channels.code, 0);
    assert.match(channels.err, /takes gray \(1-channel\) images and .* holds RGB ones/);
    const rgb = await makePair(join(root, 'rgb'));
    const size = sts('train', '--init', rgb, '--size', '32', '--stage', 'rough', '--data', join(root, 'data'), '--out', join(root, 'r2'));
    assert.notEqual(size.code, 0);
    assert.match(size.err, /--size: 32 differs from the --init model's 16/);
    const instances = sts('train', '--init', rgb, '--stage', 'fine', '--targets', 'instances', '--data', join(root, 'data'), '--out', join(root, 'r3'));
    assert.notEqual(instances.code, 0);
    assert.match(instances.err, /instances needs a network with 2 output maps/);
    const nothing = sts('train', '--init', join(root, 'data'), '--stage', 'rough', '--data', join(root, 'data'), '--out', join(root, 'r4'));
    assert.notEqual(nothing.code, 0);
    assert.match(nothing.err, /holds neither model.json .* nor rough\/model.json/);
  });
});
