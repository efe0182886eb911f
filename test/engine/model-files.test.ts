/** Model folders that are not what they claim: each refused with a message naming the file and what to do. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

  it('take weights only from the model folder: a name that leaves it, an absolute path or a link out is refused by name, unread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-model-confined-'));
    const model = createModel({ name: 'unet', size: 16, channels: 1, features: 2 }, { seed: 3 });
    await saveModel(join(dir, 'good'), model);
    model.dispose();
    const json = JSON.parse(readFileSync(join(dir, 'good', 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    // A secret outside the model folder, of exactly the size model.json describes: only confinement keeps it unread.
    const secret = join(dir, 'secret.bin');
    cpSync(join(dir, 'good', 'weights.bin'), secret);
    const withPaths = (name: string, paths: string[]) => {
      cpSync(join(dir, 'good'), join(dir, name), { recursive: true });
      rmSync(join(dir, name, 'weights.bin'));
      writeFileSync(join(dir, name, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ ...json.weightsManifest[0], paths }] }));
      return join(dir, name);
    };
    const cases: [string, string, RegExp][] = [
      ['climbs', '../secret.bin', /names its weights file '\.\.\/secret\.bin', outside its folder .*climbs \(files named by a model are read only from the model's own folder\); put the weights beside model\.json/],
      ['passwd', '../../../../../../../../etc/passwd', /names its weights file '\.\.\/\.\.\/.*etc\/passwd', outside its folder/],
      ['absolute', secret, /names its weights file '\/.*secret\.bin', outside its folder/],
      ['environ', '/proc/self/environ', /names its weights file '\/proc\/self\/environ', outside its folder/],
      ['zero', '../../../../../../../../../../dev/zero', /names its weights file '(\.\.\/)+dev\/zero', outside its folder/],
      ['hidden-climb', 'sub/../../secret.bin', /names its weights file 'sub\/\.\.\/\.\.\/secret\.bin', outside its folder/],
    ];
    for (const [name, path, message] of cases) {
      const folder = withPaths(name, [path]);
      await assert.rejects(loadModel(folder), (e: Error) => e.message.startsWith(join(folder, 'model.json')) && message.test(e.message) && !/bytes/.test(e.message), name);
    }
    // A link inside the folder that points out (to the secret, to /dev/zero) is refused too, without reading it.
    for (const [name, target] of [['link-out', secret], ['link-zero', '/dev/zero']]) {
      const folder = withPaths(name, ['weights.bin']);
      symlinkSync(target, join(folder, 'weights.bin'));
      await assert.rejects(loadModel(folder), (e: Error) => /its weights file 'weights\.bin' is a link to a file outside its folder/.test(e.message) && !/bytes/.test(e.message), name);
    }
    // A link that stays inside, and a model folder that is itself a link, are fine.
    const inner = withPaths('link-in', ['weights.bin']);
    mkdirSync(join(inner, 'store'));
    cpSync(join(dir, 'good', 'weights.bin'), join(inner, 'store', 'w.bin'));
    symlinkSync(join(inner, 'store', 'w.bin'), join(inner, 'weights.bin'));
    (await loadModel(inner)).model.dispose();
    symlinkSync(join(dir, 'good'), join(dir, 'linked-folder'));
    (await loadModel(join(dir, 'linked-folder'))).model.dispose();
  });

  it('read weights and model.json with a bound: a FIFO, a device, a folder or an impossible manifest are named at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-model-bound-'));
    const model = createModel({ name: 'unet', size: 16, channels: 1, features: 2 }, { seed: 3 });
    await saveModel(join(dir, 'good'), model);
    model.dispose();
    const copy = (name: string) => {
      cpSync(join(dir, 'good'), join(dir, name), { recursive: true });
      return join(dir, name);
    };
    const fifo = copy('fifo');
    rmSync(join(fifo, 'weights.bin'));
    execFileSync('mkfifo', [join(fifo, 'weights.bin')]);
    await assert.rejects(loadModel(fifo), /fifo\/weights\.bin: the weights file is a FIFO, not a regular file/);
    const folder = copy('folder');
    rmSync(join(folder, 'weights.bin'));
    mkdirSync(join(folder, 'weights.bin'));
    await assert.rejects(loadModel(folder), /folder\/weights\.bin: the weights file is a folder, not a regular file/);
    // model.json itself: a link to /dev/zero was read without end.
    const zeroJson = copy('zero-json');
    rmSync(join(zeroJson, 'model.json'));
    symlinkSync('/dev/zero', join(zeroJson, 'model.json'));
    await assert.rejects(loadModel(zeroJson), /zero-json\/model\.json: the JSON file is a device, not a regular file; give a model folder written by 'sts train'/);
    // A manifest describing a terabyte is refused before any file is opened.
    const huge = copy('huge');
    const json = JSON.parse(readFileSync(join(huge, 'model.json'), 'utf8')) as { weightsManifest: { weights: { shape: number[] }[] }[] };
    json.weightsManifest[0].weights[0].shape = [1_000_000, 1_000_000];
    writeFileSync(join(huge, 'model.json'), JSON.stringify(json));
    await assert.rejects(loadModel(huge), /huge\/model\.json: its weightsManifest describes [\d,]+ bytes of weights, more than the 2 GiB a network here can have/);
    json.weightsManifest[0].weights[0].shape = [-1, 3];
    writeFileSync(join(huge, 'model.json'), JSON.stringify(json));
    await assert.rejects(loadModel(huge), /huge\/model\.json: its weightsManifest gives weight .* the shape \[-1,3\], not a list of whole numbers/);
  });
});
