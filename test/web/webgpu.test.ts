/**
 * WebGPU in headless Chromium, through SwiftShader's software adapter (docs/web-hosting.md lists the flag sets
 * tried): TensorFlow.js's WebGPU backend and ONNX Runtime's WebGPU provider, forced with `?backend=webgpu`, must
 * give sts predict's mask on the e2e image (DSC >= 0.999). And a browser without an adapter, asked for WebGPU,
 * runs wasm and says why.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { runExport } from '../../src/cli/commands/export.js';
import { runPredict } from '../../src/cli/commands/predict.js';
import type { Mask } from '../../src/geometry/raster.js';
import { readMask } from '../../src/io/image-files.js';
import { imageMetrics } from '../../src/metrics/metrics.js';
import { packageRoot } from '../../src/paths.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';
import '../support/engine.js';
import { type WebSession, browserTestsUnavailable, loadOwnModels, modelFolderFiles, pageEngine, startWebSession, waitForState } from './browser.js';

const FIXTURE = join(packageRoot, 'test/fixtures/web/dsb2018-00071198.png');
const MODELS = FIXTURE_MODELS;
const unavailable = browserTestsUnavailable();

async function nodeMask(dir: string, pair: { rough: string; fine: string }): Promise<Mask<Uint8Array>> {
  const out = await mkdtemp(join(dir, 'predict-'));
  await runPredict([FIXTURE], { ...pair, out, batch: 8, tiling: true, dropPolicy: 'clip', resize: 'nearest' });
  const [folder] = await readdir(out);
  return readMask(join(out, folder, 'mask.png'));
}

async function pageMask(page: Page, dir: string): Promise<Mask<Uint8Array>> {
  await page.setInputFiles('#image-input', FIXTURE);
  await waitForState(page, 'image', 'ready');
  await page.click('#run');
  await waitForState(page, 'run', 'done', 300_000);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-mask')]);
  const path = join(dir, `page-${Date.now()}.png`);
  await writeFile(path, await readFile(await download.path()));
  return readMask(path);
}

describe('WebGPU in headless Chromium (SwiftShader adapter)', { skip: unavailable }, () => {
  let web: WebSession;
  let dir: string;
  const tfjsPair = { rough: join(MODELS, 'cells-rough'), fine: join(MODELS, 'cells-fine') };
  let onnx: { rough: string; fine: string };
  let nodeTfjs: Mask<Uint8Array>;
  let nodeOnnx: Mask<Uint8Array>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sts-web-webgpu-'));
    onnx = { rough: join(dir, 'rough.onnx'), fine: join(dir, 'fine.onnx') };
    [web] = await Promise.all([
      startWebSession({ webgpu: true }),
      (async () => {
        const quiet = () => {};
        await runExport({ onnx: tfjsPair.rough, out: onnx.rough }, quiet);
        await runExport({ onnx: tfjsPair.fine, out: onnx.fine }, quiet);
        nodeTfjs = await nodeMask(dir, tfjsPair);
        nodeOnnx = await nodeMask(dir, onnx);
      })(),
    ]);
  });
  after(async () => {
    await web?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("TensorFlow.js's WebGPU backend gives sts predict's mask (DSC >= 0.999)", async () => {
    const page = await web.newPage('?backend=webgpu');
    const engine = await pageEngine(page);
    assert.equal(engine.backend, 'webgpu', engine.line);
    await loadOwnModels(page, modelFolderFiles(tfjsPair.rough), modelFolderFiles(tfjsPair.fine));
    const { dsc } = imageMetrics(await pageMask(page, dir), nodeTfjs);
    console.log(`# TF.js WebGPU (SwiftShader) vs sts predict: mask DSC ${dsc.toFixed(5)}`);
    assert.ok(dsc >= 0.999, `mask DSC ${dsc}`);
    await page.close();
  });

  test("ONNX Runtime's WebGPU provider gives sts predict's mask for the same ONNX files (DSC >= 0.999)", async () => {
    const page = await web.newPage('?backend=webgpu');
    await loadOwnModels(page, [onnx.rough], [onnx.fine]);
    assert.match((await page.locator('#model-info').textContent()) ?? '', /both models ONNX, run by ONNX Runtime WebGPU/);
    const { dsc } = imageMetrics(await pageMask(page, dir), nodeOnnx);
    console.log(`# ONNX Runtime WebGPU (SwiftShader) vs sts predict: mask DSC ${dsc.toFixed(5)}`);
    assert.ok(dsc >= 0.999, `mask DSC ${dsc}`);
    await page.close();
  });
});

describe('WebGPU asked for where there is no adapter', { skip: unavailable }, () => {
  let web: WebSession;
  before(async () => {
    web = await startWebSession();
  });
  after(async () => {
    await web?.close();
  });

  test('the page runs wasm and says that WebGPU cannot run and why', async () => {
    const page = await web.newPage('?backend=webgpu');
    const engine = await pageEngine(page);
    assert.equal(engine.backend, 'wasm');
    const note = /WebGPU was asked for \(\?backend=webgpu\) but cannot run here: the browser offers no WebGPU adapter \(no usable GPU\)\. Running on TensorFlow\.js wasm instead/;
    assert.match(engine.line, note);
    assert.match((await page.locator('#message').textContent()) ?? '', note);
    // And it works: the models load on wasm.
    await waitForState(page, 'models', 'ready');
    await page.close();
  });
});
