/**
 * Ctrl-C in the middle of a large image: `sts predict` stops within about one network batch (not after the image),
 * says "interrupted", exits 1, and leaves no result folder that could look finished, nor temporary files.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { saveModel } from '../../src/engine/model-files.js';
import { createModel } from '../../src/models/index.js';
import '../support/engine.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('sts predict under Ctrl-C', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-predict-interrupt-'));
  after(() => rm(dir, { recursive: true, force: true }));

  it('stops a large image within a batch, says so, and leaves nothing half-written', async () => {
    const model = createModel({ name: 'unet', size: 32, channels: 3, features: 2 }, { seed: 1 });
    // Trained at 1 original pixel per input pixel: a 6,000 x 6,000 image gets tens of thousands of rough tiles, which
    // take several seconds even on a quiet machine (at 2 pixels per input pixel it was done within the 2 s wait).
    const scale = { imageWidth: 64, imageHeight: 64, factorX: 1, factorY: 1 };
    for (const stage of ['rough', 'fine']) await saveModel(join(dir, stage), model, { sts: { model: { name: 'unet', size: 32 }, stage, scale, roughInput: 'fixed-scale' } });
    model.dispose();
    const image = join(dir, 'slide.tif');
    await sharp({ create: { width: 6000, height: 6000, channels: 3, background: { r: 40, g: 40, b: 40 } } })
      .composite([{ input: { create: { width: 3000, height: 3000, channels: 3, background: { r: 220, g: 220, b: 220 } } }, left: 1500, top: 1500 }])
      .tiff({ tile: true, tileWidth: 256, tileHeight: 256, compression: 'deflate' })
      .toFile(image);
    const out = join(dir, 'out');
    const child = spawn(process.execPath, [cli, 'predict', '--rough', join(dir, 'rough'), '--fine', join(dir, 'fine'), '--out', out, image], {
      env: { ...process.env, STS_THREADS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    // Once the engine is up, give it a moment inside the image, then Ctrl-C.
    while (!/engine: /.test(err)) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(child.exitCode, null, `still working on the image when interrupted: ${err}`);
    const t = performance.now();
    child.kill('SIGINT');
    const code = await exited;
    const seconds = (performance.now() - t) / 1000;
    assert.equal(code, 1, err);
    assert.match(err, /interrupted; finished images are kept: run the same command again to do the rest/);
    assert.ok(seconds < 5, `stopped ${seconds.toFixed(1)} s after Ctrl-C`);
    const left = existsSync(out) ? readdirSync(out) : [];
    assert.deepEqual(left.filter((e) => !/\.(tmp|new|old)-/.test(e)), [], 'no result folder for the interrupted image');
    assert.deepEqual(left, [], 'no temporary folders either');
  });
});
