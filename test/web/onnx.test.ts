/**
 * ONNX models in the page, end to end in headless Chromium (onnxruntime-web on wasm): the web fixture pair exported
 * by `sts export` segments the DSB2018 fixture image to `sts predict`'s mask for the same ONNX files, alone and mixed
 * with a TensorFlow.js model; an ONNX file without its sidecar and a misfit pair end in messages naming the file.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
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
import { type WebSession, browserTestsUnavailable, loadOwnModels, modelFolderFiles, startWebSession, waitForState } from './browser.js';

/** The browser's global that a callback run in the page uses; Node's type library has no DOM. */
declare const navigator: { hardwareConcurrency: number };

const FIXTURE = join(packageRoot, 'test/fixtures/web/dsb2018-00071198.png');
const MODELS = FIXTURE_MODELS;
/** The PyTorch-exported reference U-Net (S = 32), whose sidecar is a separate file. */
const TORCH_ONNX = join(packageRoot, 'test/fixtures/onnx/reference-unet.onnx');
const unavailable = browserTestsUnavailable();

interface Predicted {
  readonly mask: Mask<Uint8Array>;
  readonly objects: number;
}

async function predicted(dir: string, pair: { rough: string; fine: string }): Promise<Predicted> {
  const out = await mkdtemp(join(dir, 'predict-'));
  await runPredict([FIXTURE], { ...pair, out, batch: 8, tiling: true, dropPolicy: 'clip', resize: 'nearest' });
  const [folder] = await readdir(out);
  const csv = (await readFile(join(out, folder, 'objects.csv'), 'utf8')).trim().split('\n');
  return { mask: await readMask(join(out, folder, 'mask.png')), objects: csv.length - 1 };
}

async function segmented(page: Page, dir: string): Promise<Predicted> {
  await page.setInputFiles('#image-input', FIXTURE);
  await waitForState(page, 'image', 'ready');
  await page.click('#run');
  await waitForState(page, 'run', 'done');
  const download = async (button: string) => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
    return readFile(await d.path());
  };
  const path = join(dir, `page-${Date.now()}.png`);
  await writeFile(path, await download('#download-mask'));
  const csv = (await download('#download-csv')).toString('utf8').trim().split('\n');
  return { mask: await readMask(path), objects: csv.length - 1 };
}

function assertSame(kind: string, page: Predicted, node: Predicted): void {
  const { dsc } = imageMetrics(page.mask, node.mask);
  console.log(`# ${kind}: page vs sts predict: mask DSC ${dsc.toFixed(5)}, objects ${page.objects} vs ${node.objects}`);
  assert.ok(node.objects > 5, `${kind}: the image has objects (${node.objects})`);
  assert.ok(dsc >= 0.99, `${kind}: mask DSC ${dsc}`);
  assert.equal(page.objects, node.objects, `${kind}: objects`);
}

describe('ONNX models in headless Chromium', { skip: unavailable }, () => {
  let web: WebSession;
  let dir: string;
  let onnx: { rough: string; fine: string };
  let nodeOnnx: Predicted;
  let nodeTfjs: Predicted;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sts-web-onnx-'));
    onnx = { rough: join(dir, 'rough.onnx'), fine: join(dir, 'fine.onnx') };
    const quiet = () => {};
    [web] = await Promise.all([
      startWebSession(),
      (async () => {
        await runExport({ onnx: join(MODELS, 'cells-rough'), out: onnx.rough }, quiet);
        await runExport({ onnx: join(MODELS, 'cells-fine'), out: onnx.fine }, quiet);
        nodeOnnx = await predicted(dir, onnx);
        nodeTfjs = await predicted(dir, { rough: join(MODELS, 'cells-rough'), fine: join(MODELS, 'cells-fine') });
      })(),
    ]);
  });
  after(async () => {
    await web?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("an exported ONNX pair segments the image to sts predict's mask for the same files", async () => {
    const page = await web.newPage('?backend=wasm');
    // The rough model with its sidecar file, the fine one alone: its convention comes from its 'sts' metadata.
    await loadOwnModels(page, [onnx.rough, `${onnx.rough}.json`], [onnx.fine]);
    const info = (await page.locator('#model-info').textContent()) ?? '';
    assert.match(info, /both models ONNX, run by ONNX Runtime wasm \(\d+ threads?\), S = 64/);
    // Cross-origin isolated, ONNX Runtime's wasm has a thread per core too.
    assert.equal(Number(/\((\d+) threads?\)/.exec(info)?.[1]), await page.evaluate(() => navigator.hardwareConcurrency));
    assertSame('ONNX pair', await segmented(page, dir), nodeOnnx);
    await page.close();
  });

  test('an ONNX rough model and a TensorFlow.js fine model work together', async () => {
    const page = await web.newPage('?backend=wasm');
    await loadOwnModels(page, [onnx.rough], modelFolderFiles(join(MODELS, 'cells-fine')));
    assert.match((await page.locator('#model-info').textContent()) ?? '', /the rough model ONNX/);
    assertSame('ONNX rough + TF.js fine', await segmented(page, dir), nodeTfjs);
    await page.close();
  });

  test('names an ONNX file without a sidecar and a misfit ONNX + TF.js pair, and keeps working', async () => {
    const page = await web.newPage('?backend=wasm');
    const message = async () => (await page.locator('#message').textContent()) ?? '';
    // The PyTorch export without its sidecar file: nothing says how to scale its inputs.
    const bare = join(dir, 'reference-unet.onnx');
    await copyFile(TORCH_ONNX, bare);
    await loadOwnModels(page, [bare], [onnx.fine], 'error');
    assert.match(await message(), /reference-unet\.onnx: no sidecar reference-unet\.onnx\.json and no 'sts' metadata property.*write reference-unet\.onnx\.json/);
    // With its sidecar it loads, but it is S = 32 beside a fine model at S = 64.
    await page.setInputFiles('#rough-files', [bare, `${TORCH_ONNX}.json`]);
    await page.click('#load-own');
    await waitForState(page, 'models', 'error');
    assert.match(await message(), /the rough model \(reference-unet\.onnx\) takes 32 x 32 inputs but the fine model \(fine\.onnx\) takes 64 x 64/);
    // And a good pair still loads.
    await page.setInputFiles('#rough-files', [onnx.rough]);
    await page.click('#load-own');
    await waitForState(page, 'models', 'ready');
    await page.close();
  });
});
