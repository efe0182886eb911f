/**
 * Models out through ONNX: each of the three architectures, as `sts train` writes it (batch norms with non-trivial
 * statistics), exported by `sts export`, computes in ONNX Runtime the maps TensorFlow.js computes on this engine;
 * then `sts predict` with an exported pair, and with a mixed pair, writes the mask the TensorFlow.js pair writes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { openNetworkModel } from '../../src/catalog/network-model.js';
import { runExport } from '../../src/cli/commands/export.js';
import { saveModel } from '../../src/engine/model-files.js';
import { readMask } from '../../src/io/image-files.js';
import { imageMetrics } from '../../src/metrics/metrics.js';
import { type ModelName, createModel } from '../../src/models/index.js';
import { packageRoot } from '../../src/paths.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';
import { modelNetwork } from '../../src/pipeline/model-network.js';
import { engine, tf } from '../support/engine.js';
import { outputsOf } from '../../src/types/network.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const S = 32;
const quiet = () => {};

/** A model with batch-norm statistics and affine terms away from their initial values, as after training. */
function trainedLike(name: ModelName, seed: number) {
  const model = createModel({ name, size: S, channels: 3, ...(name === 'deeplabv3plus' ? {} : { features: 4 }) }, { seed });
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const [gamma, beta, mean, variance] = layer.getWeights();
    layer.setWeights([
      tf.randomUniform(gamma.shape, 0.5, 1.5, 'float32', seed),
      tf.randomUniform(beta.shape, -0.3, 0.3, 'float32', seed + 1),
      tf.randomUniform(mean.shape, -0.5, 0.5, 'float32', seed + 2),
      tf.randomUniform(variance.shape, 0.5, 2, 'float32', seed + 3),
    ]);
  }
  return model;
}

describe(`sts export --onnx (TensorFlow.js on ${engine.backend} vs onnxruntime-node)`, () => {
  for (const name of ['unet', 'resunetpp', 'deeplabv3plus'] as const) {
    it(`${name}: the exported graph gives TensorFlow.js's maps within 1e-4`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `sts-export-${name}-`));
      const model = trainedLike(name, 11);
      const scale = { imageWidth: 96, imageHeight: 96, factorX: 3, factorY: 3 };
      await saveModel(join(dir, 'model'), model, { sts: { model: { name, size: S }, stage: 'rough', scale } });
      const out = join(dir, `${name}.onnx`);
      const { maxDifference: checked } = await runExport({ onnx: join(dir, 'model'), out }, quiet);
      assert.ok(checked < 1e-4);
      const sidecar = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
      assert.deepEqual([sidecar.layout, sidecar.size, sidecar.channels, sidecar.input, sidecar.output], ['NCHW', S, 3, { scale: '0-255' }, 'probability']);

      // Read back as a user's model: sidecar, shapes, and the training scale carried over.
      const onnx = await openNetworkModel(out);
      assert.deepEqual([onnx.format, onnx.size, onnx.channels], ['onnx', S, 3]);
      assert.deepEqual((onnx.metadata.sts as { scale: unknown }).scale, scale);
      const x = tf.randomUniform([5, S, S, 3], 0, 255, 'float32', 5);
      const data = x.dataSync() as Float32Array;
      x.dispose();
      const inputs = Array.from({ length: 5 }, (_, i) => ({ width: S, height: S, channels: 3, data: data.slice(i * S * S * 3, (i + 1) * S * S * 3) }));
      const reference = await modelNetwork(model, { fold: false })(inputs);
      const maps = await onnx.network({ batchSize: 3 })(inputs);
      let d = 0;
      maps.forEach((m, i) => Array.from(m).forEach((v, k) => (d = Math.max(d, Math.abs(v - reference[i][k])))));
      assert.ok(d < 1e-4, `${name}: largest difference ${d}`);
      model.dispose();
    });
  }

  it('an instance network (foreground and cores): exported, checked and read back with both maps, interleaved as TensorFlow.js gives them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-export-instances-'));
    const model = createModel({ name: 'unet', size: S, channels: 3, features: 4, outputs: 2 }, { seed: 12 });
    await saveModel(join(dir, 'model'), model, { sts: { model: { name: 'unet', size: S, outputs: 2 }, stage: 'fine', targets: 'instances' } });
    const out = join(dir, 'fine.onnx');
    const lines: string[] = [];
    const { maxDifference: checked } = await runExport({ onnx: join(dir, 'model'), out }, (l) => lines.push(l));
    assert.ok(checked < 1e-4);
    assert.match(lines[0], new RegExp(`output N x 2 x ${S} x ${S} probabilities: foreground and object cores`));
    const onnx = await openNetworkModel(out);
    assert.equal((onnx.metadata.sts as { targets: unknown }).targets, 'instances');
    const network = onnx.network();
    assert.equal(outputsOf(network), 2);
    const x = tf.randomUniform([3, S, S, 3], 0, 255, 'float32', 6);
    const data = x.dataSync() as Float32Array;
    x.dispose();
    const inputs = Array.from({ length: 3 }, (_, i) => ({ width: S, height: S, channels: 3, data: data.slice(i * S * S * 3, (i + 1) * S * S * 3) }));
    const reference = await modelNetwork(model, { fold: false })(inputs);
    const maps = await network(inputs);
    let d = 0;
    maps.forEach((m, i) => {
      assert.equal(m.length, S * S * 2);
      Array.from(m).forEach((v, k) => (d = Math.max(d, Math.abs(v - reference[i][k]))));
    });
    assert.ok(d < 1e-4, `largest difference ${d}`);
    model.dispose();
  });

  it('refuses a layer it cannot map, by name, and an --out that is not .onnx', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-export-bad-'));
    const tfl = await import('@tensorflow/tfjs-layers');
    const input = tfl.input({ shape: [S, S, 3], name: 'image' });
    const y = tfl.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'elu', name: 'odd_conv' }).apply(input) as ReturnType<typeof tfl.input>;
    await saveModel(join(dir, 'odd'), tfl.model({ inputs: input, outputs: y }), {});
    await assert.rejects(runExport({ onnx: join(dir, 'odd'), out: join(dir, 'odd.onnx') }, quiet), /layer 'odd_conv' \(Conv2D\): activation 'elu' is not exported/);
    assert.ok(!existsSync(join(dir, 'odd.onnx')) && !existsSync(join(dir, 'odd.onnx.json')), 'nothing written');
    await assert.rejects(runExport({ onnx: join(dir, 'odd'), out: join(dir, 'odd.pt') }, quiet), /--out: must end in \.onnx/);
  });

  it('sts predict with the exported pair, and with ONNX rough + TensorFlow.js fine, writes the TensorFlow.js mask (DSC >= 0.999)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-export-predict-'));
    const models = FIXTURE_MODELS;
    const sts = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, STS_THREADS: '1' } });
    for (const stage of ['rough', 'fine']) {
      const r = sts('export', '--onnx', join(models, `cells-${stage}`), '--out', join(dir, `cells-${stage}.onnx`));
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /checked: ONNX Runtime's maps equal TensorFlow\.js's within/);
    }
    const image = join(dir, 'cells.png');
    await sharp(join(packageRoot, 'test/fixtures/web/dsb2018-00071198.png')).toFile(image);
    const pairs = {
      tfjs: [join(models, 'cells-rough'), join(models, 'cells-fine')],
      onnx: [join(dir, 'cells-rough.onnx'), join(dir, 'cells-fine.onnx')],
      mixed: [join(dir, 'cells-rough.onnx'), join(models, 'cells-fine')],
    };
    const masks: Record<string, Awaited<ReturnType<typeof readMask>>> = {};
    const objects: Record<string, number> = {};
    for (const [kind, [rough, fine]] of Object.entries(pairs)) {
      const r = sts('predict', '--rough', rough, '--fine', fine, '--out', join(dir, kind), image);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readdirSync(join(dir, kind)), ['cells']);
      masks[kind] = await readMask(join(dir, kind, 'cells', 'mask.png'));
      objects[kind] = JSON.parse(readFileSync(join(dir, kind, 'cells', 'summary.json'), 'utf8')).objects;
    }
    const foreground = masks.tfjs.data.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
    assert.ok(foreground > 100, 'the pair finds cells');
    for (const kind of ['onnx', 'mixed']) {
      const { dsc } = imageMetrics(masks[kind], masks.tfjs);
      assert.ok(dsc >= 0.999, `${kind}: DSC ${dsc} against the TensorFlow.js pair`);
      assert.equal(objects[kind], objects.tfjs, kind);
    }
  });
});
