/**
 * Ctrl-C in the middle of a large image: `sts predict` stops within about one network batch (not after the image),
 * says "interrupted", exits 1, and leaves no result folder that could look finished, nor temporary files.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { saveModel } from '../../src/engine/model-files.js';
import { jemallocLibrary } from '../../src/engine/allocator.js';
import { createModel } from '../../src/models/index.js';
import '../support/engine.js';
import { until } from '../support/until.js';
import { LEFTOVER_PATTERN } from '../../src/io/atomic-write.js';

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
    // Once the engine is up, give it a moment inside the image, then Ctrl-C.
    const { child, exited, log } = await startPredict(image, out);
    const t = performance.now();
    child.kill('SIGINT');
    const code = await exited;
    const seconds = (performance.now() - t) / 1000;
    assert.equal(code, 1, log());
    assert.match(log(), /interrupted; finished images are kept: run the same command again to do the rest/);
    assert.ok(seconds < 5, `stopped ${seconds.toFixed(1)} s after Ctrl-C`);
    const left = existsSync(out) ? readdirSync(out) : [];
    assert.deepEqual(left.filter((e) => !LEFTOVER_PATTERN.test(e)), [], 'no result folder for the interrupted image');
    assert.deepEqual(left, [], 'no temporary folders either');
  });

  // An image held in memory (a PNG) is read without I/O, and the engine computes synchronously: nothing else gave
  // the event loop a turn during the rough pass, so Ctrl-C and the orphan check waited for the whole pass.
  const noisyPng = async () => {
    const path = join(dir, 'noisy.png');
    if (existsSync(path)) return path;
    const side = 2400;
    const pixels = new Uint8Array(side * side * 3);
    let x = 12345;
    for (let i = 0; i < pixels.length; i++) pixels[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    await sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 1 }).toFile(path);
    return path;
  };
  /** `sts predict` on `image`, returned once it has worked 1.5 s inside the image (the engine up). */
  const startPredict = async (image: string, out: string) => {
    const child = spawn(process.execPath, [cli, 'predict', '--rough', join(dir, 'rough'), '--fine', join(dir, 'fine'), '--out', out, image], {
      env: { ...process.env, STS_THREADS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    while (!/engine: /.test(err)) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(child.exitCode, null, `still working on the image when interrupted: ${err}`);
    return { child, exited, log: () => err };
  };
  const startOnPng = async (out: string) => startPredict(await noisyPng(), out);

  it('Ctrl-C acts within seconds during the rough pass of an image held in memory', async () => {
    const { child, exited, log } = await startOnPng(join(dir, 'out-png'));
    const t = performance.now();
    child.kill('SIGINT');
    const code = await exited;
    const seconds = (performance.now() - t) / 1000;
    assert.equal(code, 1, log());
    assert.match(log(), /interrupted; finished images are kept/);
    // Seconds, not minutes (438 s before the fix). Quiet runs stop in under 2 s; the bound leaves room for a loaded CI machine.
    assert.ok(seconds < 5, `stopped ${seconds.toFixed(1)} s after Ctrl-C`);
  });

  // Only where sts reruns itself on jemalloc is there a launcher and a child.
  const rerun = jemallocLibrary() !== undefined && process.env.STS_ALLOCATOR !== 'system';
  it('a SIGKILLed launcher takes its predicting child with it within seconds', { skip: !rerun && 'no jemalloc rerun here' }, async () => {
    const { child, exited } = await startOnPng(join(dir, 'out-orphan'));
    const worker = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number).filter((p) => p > 0);
    assert.equal(worker.length, 1, 'the launcher runs one child (jemalloc rerun)');
    child.kill('SIGKILL');
    await exited;
    const t = performance.now();
    await until('the orphaned child to stop', () => !alive(worker[0]), 10_000);
    const seconds = (performance.now() - t) / 1000;
    // It polls its parent once a second, then stops as on SIGTERM: 1-2 s quiet, 2.6 s seen in a loaded CI run. The
    // bound says seconds (an orphan used to predict on for minutes), with room for a loaded machine.
    assert.ok(seconds < 5, `the orphan stopped ${seconds.toFixed(1)} s after its launcher was killed`);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
