/** The model catalog (pairs by name) and compact weights, on a tiny catalog made here. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { catalogEntry, catalogNames, loadModelPair, pairSourceOfOptions } from '../../src/catalog/catalog.js';
import { compactModelFolder, quantizeWeight } from '../../src/engine/compact-weights.js';
import { loadModel, saveModel } from '../../src/engine/model-files.js';
import { createModel } from '../../src/models/index.js';
import { tf } from '../support/engine.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const S = 32;

describe('model catalog and compact weights', () => {
  let dir: string;
  let catalog: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sts-catalog-'));
    catalog = join(dir, 'models');
    for (const [stage, seed] of [['rough', 1], ['fine', 2]] as const) {
      const model = createModel({ name: 'unet', size: S, channels: 3, features: 4 }, { seed });
      await saveModel(join(dir, 'runs', stage), model, { sts: { model: { name: 'unet', size: S, features: 4 }, stage } });
      model.dispose();
    }
    for (const [name, dtype] of [['tiny', 'float16'], ['tiny8', 'uint8']] as const) {
      for (const stage of ['rough', 'fine']) await compactModelFolder(join(dir, 'runs', stage), join(catalog, name, stage), dtype);
    }
    cpSync(join(dir, 'runs', 'rough', 'model.json'), join(catalog, 'not-a-pair', 'rough', 'model.json'), { recursive: true });
    process.env.STS_MODELS_DIR = catalog;
  });
  after(() => {
    delete process.env.STS_MODELS_DIR;
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the folders holding a rough and a fine model, and refuses an unknown name listing the known ones', async () => {
    assert.deepEqual(await catalogNames(), ['tiny', 'tiny8']);
    await assert.rejects(catalogEntry('nucleii'), /--model: no pretrained pair 'nucleii' in the catalog \(.*\); the pairs are: tiny, tiny8/);
    await assert.rejects(loadModelPair('not-a-pair'), /the pairs are: tiny, tiny8/);
    assert.throws(() => pairSourceOfOptions({ model: 'tiny', rough: 'x' }), /--model: takes a catalog pair by name: leave out --rough and --fine/);
    assert.throws(() => pairSourceOfOptions({ rough: 'x' }), /--fine: give both --rough and --fine model folders, or a pretrained pair with --model/);
  });

  it('loads a pair by name with its size and channels', async () => {
    const pair = await loadModelPair('tiny');
    assert.deepEqual([pair.size, pair.channels, pair.entry?.name], [S, 3, 'tiny']);
    assert.deepEqual([pair.rough.format, pair.fine.format], ['tfjs', 'tfjs']);
    pair.rough.dispose();
    pair.fine.dispose();
  });

  it('float16 halves and uint8 quarters the weights; the networks answer within 2e-3 and 2e-2 of float32', async () => {
    const full = await loadModel(join(dir, 'runs', 'rough'));
    const x = tf.randomUniform([2, S, S, 3], 0, 255, 'float32', 7);
    const reference = (full.model.predict(x) as tf.Tensor).dataSync();
    const bytes = (d: string) => statSync(join(d, 'weights.bin')).size;
    const full32 = bytes(join(dir, 'runs', 'rough'));
    for (const [name, ratio, tolerance] of [['tiny', 2, 2e-3], ['tiny8', 4, 2e-2]] as const) {
      assert.ok(Math.abs(full32 / bytes(join(catalog, name, 'rough')) - ratio) < 0.05, `${name}: ${full32} -> ${bytes(join(catalog, name, 'rough'))} bytes`);
      const compact = await loadModel(join(catalog, name, 'rough'));
      const y = (compact.model.predict(x) as tf.Tensor).dataSync();
      const diff = Array.from(reference).reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
      assert.ok(diff < tolerance, `${name}: max |p - p32| = ${diff}`);
      assert.deepEqual(compact.metadata, full.metadata, 'the metadata travels with the weights');
      compact.model.dispose();
    }
    x.dispose();
    full.model.dispose();
  });

  it('quantises one weight within half a step: float16 to 2^-11 relative (float32 kept beyond its range), uint8 to scale / 2', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 0.3 + 0.01);
    const spec = { name: 'w', shape: [1000], dtype: 'float32' as const };
    const half = quantizeWeight(spec, values, 'float16');
    const decodedHalf = tf.io.decodeWeights(half.bytes.slice().buffer, [half.spec]).w.dataSync();
    values.forEach((v, i) => assert.ok(Math.abs(decodedHalf[i] - v) <= Math.abs(v) * 2 ** -11 + 1e-7, `float16 ${v} -> ${decodedHalf[i]}`));
    const byte = quantizeWeight(spec, values, 'uint8');
    const { scale } = byte.spec.quantization as { scale: number };
    const decodedByte = tf.io.decodeWeights(byte.bytes.slice().buffer, [byte.spec]).w.dataSync();
    values.forEach((v, i) => assert.ok(Math.abs(decodedByte[i] - v) <= scale / 2 + 1e-7, `uint8 ${v} -> ${decodedByte[i]}`));
    // Beyond float16's range (a batch norm variance of 1e6) the weight stays float32, exactly, instead of infinity.
    const large = quantizeWeight({ ...spec, shape: [3] }, new Float32Array([2.5e2, 9.5e5, 7e4]), 'float16');
    assert.equal(large.spec.quantization, undefined);
    assert.deepEqual(Array.from(tf.io.decodeWeights(large.bytes.slice().buffer, [large.spec]).w.dataSync()), [2.5e2, 9.5e5, 7e4]);
    const constant = quantizeWeight({ ...spec, shape: [3] }, new Float32Array([0.5, 0.5, 0.5]), 'uint8');
    assert.deepEqual(Array.from(tf.io.decodeWeights(constant.bytes.slice().buffer, [constant.spec]).w.dataSync()), [0.5, 0.5, 0.5]);
  });

  it('sts predict --model <name> segments with the catalog pair; sts models lists it; an unknown name is named', async () => {
    const image = join(dir, 'a.png');
    await sharp(new Uint8Array(48 * 40 * 3).map((_, i) => (i * 13) % 251), { raw: { width: 48, height: 40, channels: 3 } }).png().toFile(image);
    const env = { ...process.env, STS_THREADS: '1', STS_MODELS_DIR: catalog };
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
    const ok = run('predict', '--model', 'tiny', '--out', join(dir, 'out'), image);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /model: the catalog's tiny pair/);
    assert.ok(existsSync(join(dir, 'out', 'a', 'mask.png')));
    const unknown = run('predict', '--model', 'nope', '--out', join(dir, 'out2'), image);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^sts: error: --model: no pretrained pair 'nope' in the catalog .*; the pairs are: tiny, tiny8$/m);
    const list = run('models');
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' ')), ['tiny semantic', 'tiny8 semantic'], 'each pair with what its objects are');
    assert.ok(JSON.parse(readFileSync(join(catalog, 'tiny', 'rough', 'model.json'), 'utf8')).weightsManifest[0].weights.every((w: { quantization?: { dtype: string } }) => w.quantization?.dtype === 'float16'));
  });
});
