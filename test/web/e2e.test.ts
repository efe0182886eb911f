/**
 * The web app end to end, in headless Chromium on the wasm backend: a real DSB2018 image segmented in the page must
 * match what Node computes with the same models and the same library code; bad input must end in a message.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeArrayBuffer } from 'geotiff';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { readMask } from '../../src/io/image-files.js';
import { runPredict } from '../../src/cli/commands/predict.js';
import type { Mask } from '../../src/geometry/raster.js';
import { imageMetrics } from '../../src/metrics/metrics.js';
import { packageRoot } from '../../src/paths.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';
import '../support/engine.js';
import { type WebSession, browserTestsUnavailable, pageEngine, startWebSession, waitForState } from './browser.js';

/** The browser's globals that callbacks run in the page use; Node's type library has no DOM. */
declare const navigator: { hardwareConcurrency: number };

const FIXTURE = join(packageRoot, 'test/fixtures/web/dsb2018-00071198.png');
/** A small nuclei pair (U-Net, 8 base features, S = 64, 8 epochs) kept as a test fixture: fast on wasm in CI. */
const MODELS = FIXTURE_MODELS;
const unavailable = browserTestsUnavailable();
if (unavailable) console.log(`# web end-to-end tests skipped: ${unavailable}`);

/** What `sts predict` writes for the image with the fixture pair: its mask and objects CSV. */
async function predicted(imagePath: string): Promise<{ mask: Mask<Uint8Array>; csv: string }> {
  const out = await mkdtemp(join(tmpdir(), 'sts-web-predict-'));
  try {
    await runPredict([imagePath], {
      rough: join(MODELS, 'cells-rough'), fine: join(MODELS, 'cells-fine'), out, batch: 8, tiling: true, dropPolicy: 'clip', resize: 'nearest',
    });
    const [folder] = await readdir(out);
    return { mask: await readMask(join(out, folder, 'mask.png')), csv: await readFile(join(out, folder, 'objects.csv'), 'utf8') };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function nodeMask(imagePath: string): Promise<Mask<Uint8Array>> {
  return (await predicted(imagePath)).mask;
}

/** Loads the fixture pair through the page's own-model-files controls, as a user loads a pair of `sts train`. */
async function loadFixturePair(page: Page, fine = join(MODELS, 'cells-fine/model.json'), { afterStart = true } = {}): Promise<void> {
  // The page loads its default bundled pair first; wait for that before replacing it.
  if (afterStart) await waitForState(page, 'models', 'ready');
  await page.selectOption('#pair', 'own');
  await page.setInputFiles('#rough-files', [join(MODELS, 'cells-rough/model.json'), join(MODELS, 'cells-rough/weights.bin')]);
  await page.setInputFiles('#fine-files', [fine, join(MODELS, 'cells-fine/weights.bin')]);
  await page.click('#load-own');
}

async function openAndRun(page: Page, file: string): Promise<void> {
  if ((await page.locator('#pair').inputValue()) !== 'own') await loadFixturePair(page);
  await waitForState(page, 'models', 'ready');
  await page.setInputFiles('#image-input', file);
  await waitForState(page, 'image', 'ready');
  await page.click('#run');
  await waitForState(page, 'run', 'done');
}

async function downloadText(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const path = await download.path();
  return { name: download.suggestedFilename(), bytes: await readFile(path) };
}

async function pageMask(page: Page): Promise<Mask<Uint8Array>> {
  const { bytes } = await downloadText(page, '#download-mask');
  const dir = await mkdtemp(join(tmpdir(), 'sts-web-'));
  try {
    await writeFile(join(dir, 'mask.png'), bytes);
    return await readMask(join(dir, 'mask.png'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('web app in headless Chromium', { skip: unavailable }, () => {
  let web: WebSession;
  let reference: Mask<Uint8Array>;
  let referenceCsv: string;
  let dir: string;
  before(async () => {
    let outputs: Awaited<ReturnType<typeof predicted>>;
    [web, outputs, dir] = await Promise.all([startWebSession(), predicted(FIXTURE), mkdtemp(join(tmpdir(), 'sts-web-'))]);
    reference = outputs.mask;
    referenceCsv = outputs.csv;
  });
  after(async () => {
    await web?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("segments a real DSB2018 image as sts predict does (DSC >= 0.99) and offers sts predict's mask, GeoJSON and CSV", async () => {
    const page = await web.newPage('?backend=wasm');
    // Served cross-origin isolated (vite.config.ts's headers), the wasm backend has a thread per core.
    const engine = await pageEngine(page);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    console.log(`# ${engine.line} (crossOriginIsolated ${engine.isolated}, ${cores} cores)`);
    assert.equal(engine.backend, 'wasm');
    assert.equal(engine.isolated, true, 'the page is cross-origin isolated');
    assert.equal(engine.threads, cores, 'one wasm thread per core');
    if (cores > 1) assert.ok(engine.threads > 1, `${engine.threads} threads on ${cores} cores`);
    assert.match(engine.line, new RegExp(`^Engine: TensorFlow\\.js wasm, SIMD, ${cores} threads?\\.$`));
    await openAndRun(page, FIXTURE);
    const mask = await pageMask(page);
    const { dsc } = imageMetrics(mask, reference);
    console.log(`# browser (wasm) vs sts predict (${process.env.STS_BACKEND ?? 'default engine'}) mask DSC: ${dsc.toFixed(5)}`);
    assert.ok(dsc >= 0.99, `DSC between the page's and sts predict's masks is ${dsc}`);

    // The objects: the same CSV as sts predict's objects.csv, row for row (the engines' float order may move a
    // pixel on the threshold; every other row must be equal).
    const csvText = (await downloadText(page, '#download-csv')).bytes.toString('utf8');
    const csv = csvText.trim().split('\n');
    const expected = referenceCsv.trim().split('\n');
    assert.equal(csv[0], expected[0]);
    assert.equal(csv.length, expected.length, 'as many objects as sts predict');
    const differing = csv.filter((row, i) => row !== expected[i]).length;
    console.log(`# page CSV vs sts predict's objects.csv: ${csv.length - 1} objects, ${differing} rows differ`);
    assert.ok(differing <= Math.ceil(0.02 * csv.length), `${differing} of ${csv.length - 1} rows differ from sts predict's`);
    const objects = csv.length - 1;
    assert.match((await page.locator('#objects-summary').textContent()) ?? '', new RegExp(`^${objects} objects?`));
    const geojson = JSON.parse((await downloadText(page, '#download-geojson')).bytes.toString('utf8'));
    assert.equal(geojson.type, 'FeatureCollection');
    assert.equal(geojson.features.length, objects);
    assert.equal(geojson.features[0].properties.objectType, 'detection');

    // The deep-zoom viewer: the wheel over the image zooms in, a double-click shows the whole image again.
    const zoom = () => page.locator('#viewer').getAttribute('data-zoom');
    await page.waitForFunction(() => document.querySelector('#viewer')?.getAttribute('data-zoom'));
    const fitted = await zoom();
    await page.mouse.move(800, 400);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((before) => document.querySelector('#viewer')?.getAttribute('data-zoom') !== before, fitted);
    assert.ok(Number(await zoom()) > Number(fitted), 'zoomed in');
    await page.dblclick('#viewer');
    assert.equal(await page.locator('#viewer').getAttribute('data-layers'), 'image mask boxes');

    // What the viewer shows: the overlay tints the objects green and leaves the rest of the image as it is (the
    // layers are drawn straight onto the viewer's canvas, their tiles' alpha doing the blending).
    await page.uncheck('#show-boxes');
    await page.uncheck('#show-mask');
    await page.waitForTimeout(1500);
    const bare = await viewerPixels(page);
    await page.check('#show-mask');
    await page.waitForTimeout(1500);
    const shown = await viewerPixels(page);
    let tinted = 0;
    let changed = 0;
    for (let i = 0; i < bare.length; i += 3) {
      const d = [0, 1, 2].map((c) => shown[i + c] - bare[i + c]);
      if (d.some((v) => Math.abs(v) > 8)) changed++;
      if (d[1] > 8 && d[1] > d[0] && d[1] > d[2]) tinted++;
    }
    const pixels = bare.length / 3;
    console.log(`# viewer: ${((100 * changed) / pixels).toFixed(1)}% of its pixels changed by the overlay, ${((100 * tinted) / pixels).toFixed(1)}% tinted green`);
    assert.ok(tinted > 0.02 * pixels, `the objects are tinted green (${tinted} of ${pixels} pixels)`);
    assert.ok(changed < 0.6 * pixels && tinted > 0.8 * changed, `the overlay changes the objects only (${changed} changed, ${tinted} green)`);
    await page.check('#show-boxes');

    await page.click('input[name=method][value=baseline]');
    assert.ok(imageMetrics(await pageMask(page), mask).dsc < 1, 'the baseline toggle shows another mask');
    if (process.env.STS_UPDATE_SCREENSHOT) {
      await page.click('input[name=method][value=sts]');
      await page.dblclick('#viewer');
      await page.waitForTimeout(3000);
      await page.screenshot({ path: join(packageRoot, 'docs/web-app.png') });
    }
    await page.close();
  });

  test('served without COOP/COEP, the page runs wasm on one thread and says why', async () => {
    const page = await web.browser.newPage();
    // A host that sends no isolation headers: the page's document without them (its workers inherit its policy).
    await page.route('**/*', async (route) => {
      if (!route.request().isNavigationRequest()) return route.continue();
      const response = await route.fetch();
      const headers = Object.fromEntries(Object.entries(response.headers()).filter(([name]) => !/^cross-origin-(opener|embedder)-policy$/i.test(name)));
      await route.fulfill({ response, headers });
    });
    await page.goto(`${web.url}?backend=wasm`);
    const engine = await pageEngine(page);
    assert.equal(engine.isolated, false);
    assert.equal(engine.threads, 1);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    assert.match(engine.line, /^Engine: TensorFlow\.js wasm, SIMD, 1 thread \(one thread: the page is not cross-origin isolated .*Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp.*docs\/web-hosting\.md\)\.$/);
    await page.close();
  });

  test('reads a tiled, pyramidal, LZW-compressed TIFF of the image to the same mask as its PNG', async () => {
    const tiff = join(dir, 'pyramid.tif');
    await sharp(FIXTURE).removeAlpha().tiff({ tile: true, tileWidth: 64, tileHeight: 64, pyramid: true, compression: 'lzw' }).toFile(tiff);
    const page = await web.newPage('?backend=wasm');
    await openAndRun(page, tiff);
    assert.ok(imageMetrics(await pageMask(page), reference).dsc >= 0.99);
    await page.close();
  });

  test('reads a JPEG as Node does: the browser and sharp decode it to the same mask', async () => {
    const jpeg = join(dir, 'nuclei.jpg');
    await sharp(FIXTURE).removeAlpha().jpeg({ quality: 90 }).toFile(jpeg);
    const page = await web.newPage('?backend=wasm');
    await openAndRun(page, jpeg);
    const { dsc } = imageMetrics(await pageMask(page), await nodeMask(jpeg));
    assert.ok(dsc >= 0.99, `DSC between the page's and Node's masks of a JPEG is ${dsc}`);
    await page.close();
  });

  test('says what is wrong with a non-image file, an unsupported TIFF and a misfit model pair, and keeps working', async () => {
    const page = await web.newPage('?backend=wasm');
    await waitForState(page, 'models', 'ready');
    const message = () => page.locator('#message').textContent();

    const text = join(dir, 'notes.png');
    await writeFile(text, 'these are notes, not pixels\n');
    await page.setInputFiles('#image-input', text);
    await waitForState(page, 'image', 'error');
    assert.match((await message()) ?? '', /notes\.png: is not an image this page can read .*open a PNG, JPEG or TIFF file/);

    const float = join(dir, 'float.tif');
    await writeFile(float, Buffer.from(writeArrayBuffer(new Float32Array(16 * 16), { width: 16, height: 16, SampleFormat: [3], BitsPerSample: [32] })));
    await page.setInputFiles('#image-input', float);
    await waitForState(page, 'image', 'error');
    assert.match((await message()) ?? '', /float\.tif: unsupported TIFF \(sample format 3.*\); save it as/);

    // A fine model at S = 32 next to a rough one at 64: the U-Net's weights fit any S, so only the check catches it.
    const json = JSON.parse(await readFile(join(MODELS, 'cells-fine/model.json'), 'utf8'));
    json.modelTopology.config.layers[0].config.batch_input_shape = [null, 32, 32, 3];
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await loadFixturePair(page, join(dir, 'model.json'));
    await waitForState(page, 'models', 'error');
    assert.match((await message()) ?? '', /rough model \(.*\) takes 64 x 64 inputs but the fine model \(.*\) takes 32 x 32.*load a pair trained with the same --size/);

    // Still alive: a good pair and a good image segment as before.
    await loadFixturePair(page, undefined, { afterStart: false });
    await openAndRun(page, FIXTURE);
    assert.ok(imageMetrics(await pageMask(page), reference).dsc >= 0.99);
    await page.close();
  });

  test('cancels a run at once, and the next run completes', async () => {
    const page = await web.newPage('?backend=wasm');
    await loadFixturePair(page);
    await waitForState(page, 'models', 'ready');
    await page.setInputFiles('#image-input', FIXTURE);
    await waitForState(page, 'image', 'ready');
    // Both clicks in one task: the cancel reaches the worker before its first network call, whatever the machine's speed.
    await page.evaluate(clickRunThenCancel);
    await waitForState(page, 'run', 'cancelled', 10_000);
    assert.equal(await page.locator('#run').isEnabled(), true);
    await page.click('#run');
    await waitForState(page, 'run', 'done');
    assert.ok(imageMetrics(await pageMask(page), reference).dsc >= 0.99);
    await page.close();
  });
});

declare const document: {
  getElementById(id: string): { click(): void } | null;
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
};
function clickRunThenCancel(): void {
  document.getElementById('run')?.click();
  document.getElementById('cancel')?.click();
}

/** The deep-zoom viewer's pixels as they are on screen, RGB. */
async function viewerPixels(page: Page): Promise<Uint8Array> {
  const png = await page.locator('#viewer').screenshot();
  return new Uint8Array(await sharp(png).removeAlpha().raw().toBuffer());
}
