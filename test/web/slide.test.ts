/**
 * Slides in the page, end to end in headless Chromium (wasm): a 12,000 x 12,000 pyramidal TIFF built by the test,
 * too large to decode whole, is read by windows and segmented on the streaming path; its objects and its mask at
 * overlay resolution must equal `sts predict`'s for the same file and models. A slide without a pyramid goes
 * through the streamed downscale; cancelling mid-slide stops within a batch; bad files end in a message.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { runPredict } from '../../src/cli/commands/predict.js';
import { openImageSource } from '../../src/io/file-image-source.js';
import { readMask } from '../../src/io/image-files.js';
import type { Mask } from '../../src/geometry/raster.js';
import { imageMetrics } from '../../src/metrics/metrics.js';
import { downscaleReader } from '../../src/pipeline/downscale-reader.js';
import { overlaySize } from '../../src/pipeline/fine-results.js';
import '../support/engine.js';
import { type WebSession, browserTestsUnavailable, loadOwnModels, modelFolderFiles, startWebSession, waitForState } from './browser.js';
import { buildSlide, scaledFixturePair } from './slides.js';

const unavailable = browserTestsUnavailable();
const SIDE = 12_000;
/** sts predict's options for slides, as the page offers them. */
const OPTIONS = { withinRough: true, roughOnlyUpTo: 16 };

interface NodeResult {
  /** The mask at overlay resolution: sts predict's mask.tif sampled as the page samples its own. */
  readonly overview: Mask<Uint8Array>;
  readonly csv: string[];
}

/** `sts predict` on `path` with the pair and OPTIONS. */
async function predicted(path: string, pair: { rough: string; fine: string }): Promise<NodeResult> {
  const out = await mkdtemp(join(tmpdir(), 'sts-slide-predict-'));
  try {
    await runPredict([path], { ...pair, out, batch: 8, tiling: true, dropPolicy: 'clip', resize: 'nearest', ...OPTIONS });
    const [folder] = await readdir(out);
    const mask = await openImageSource(join(out, folder, 'mask.tif'), { channels: 1 });
    const { width, height } = overlaySize(mask.width, mask.height);
    const rows = await downscaleReader(mask, width, height, { exact: true }).readRows(0, height);
    const overview: Mask<Uint8Array> = { width, height, channels: 1, data: rows.data.map((v) => (v >= 128 ? 1 : 0)) };
    return { overview, csv: (await readFile(join(out, folder, 'objects.csv'), 'utf8')).trim().split('\n') };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function downloaded(page: Page, button: string): Promise<Buffer> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return readFile(await download.path());
}

async function pageOverview(page: Page, dir: string): Promise<Mask<Uint8Array>> {
  const path = join(dir, `page-mask-${Date.now()}.png`);
  await writeFile(path, await downloaded(page, '#download-mask'));
  return readMask(path);
}

function compare(kind: string, page: { overview: Mask<Uint8Array>; csv: string[] }, node: NodeResult): void {
  assert.deepEqual([page.overview.width, page.overview.height], [node.overview.width, node.overview.height], `${kind}: overlay size`);
  const { dsc } = imageMetrics(page.overview, node.overview);
  const objects = page.csv.length - 1;
  const expected = node.csv.length - 1;
  const same = page.csv.filter((row, i) => row === node.csv[i]).length - 1;
  console.log(`# ${kind}: page vs sts predict: mask DSC at ${page.overview.width} x ${page.overview.height} ${dsc.toFixed(5)}; objects ${objects} vs ${expected}, ${same} CSV rows identical`);
  assert.ok(dsc >= 0.99, `${kind}: mask DSC ${dsc}`);
  assert.ok(expected > 20, `${kind}: the slide has objects (${expected})`);
  assert.ok(Math.abs(objects - expected) <= 0.005 * expected, `${kind}: ${objects} objects against sts predict's ${expected}`);
}

describe('slides in headless Chromium', { skip: unavailable }, () => {
  let web: WebSession;
  let dir: string;
  let slide: string;
  let pair: { rough: string; fine: string };
  let node: Promise<NodeResult>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sts-web-slide-'));
    slide = join(dir, 'slide.tif');
    [web, pair] = await Promise.all([startWebSession(), scaledFixturePair(join(dir, 'models')), buildSlide(slide, { width: SIDE, height: SIDE, copies: 12, pyramid: true })]);
    // sts predict runs while the page does: the comparison waits for it.
    node = predicted(slide, pair);
    node.catch(() => {});
  });
  after(async () => {
    await web?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('segments a 12,000 x 12,000 pyramidal TIFF by windows as sts predict does, region by region; a cancel mid-slide stops within a batch', async () => {
    const page = await web.newPage('?backend=wasm');
    await loadOwnModels(page, modelFolderFiles(pair.rough), modelFolderFiles(pair.fine));
    await page.setInputFiles('#image-input', slide);
    await waitForState(page, 'image', 'ready');
    assert.match((await page.locator('#image-info').textContent()) ?? '', /12,000 x 12,000 px, a pyramid of \d+ levels, read by windows/);
    await page.check('#within-rough');
    await page.fill('#rough-only-up-to', String(OPTIONS.roughOnlyUpTo));

    // Cancel in the middle of the rough pass: the worker itself stops (before the page's 3 s grace replaces it).
    await page.click('#run');
    await page.waitForFunction(() => /Rough pass: tile [1-9]/.test(document.querySelector('#run-info')?.textContent ?? ''), undefined, { timeout: 120_000 });
    const t0 = Date.now();
    await page.click('#cancel');
    await waitForState(page, 'run', 'cancelled', 10_000);
    const stopped = Date.now() - t0;
    console.log(`# cancel mid-slide: stopped in ${stopped} ms`);
    assert.ok(stopped < 3000, `the worker took ${stopped} ms to stop`);

    // The whole run, watching what the page says and shows while it goes.
    await page.evaluate(watchRun);
    const t1 = Date.now();
    await page.click('#run');
    await waitForState(page, 'run', 'done', 300_000);
    const seen = (await page.evaluate(() => (globalThis as unknown as { seen: string[] }).seen)) as string[];
    const updates = Number(await page.locator('#status').getAttribute('data-overlay-updates'));
    const streamed = Number(await page.locator('#status').getAttribute('data-result-updates'));
    const seconds = (Date.now() - t1) / 1000;
    console.log(`# page: ${seconds.toFixed(1)} s; ${await page.locator('#run-info').textContent()}; results streamed in ${streamed} messages, overlay redrawn ${updates} times`);
    assert.ok(streamed >= 2, `results arrive while the run goes, not once at the end (${streamed} messages)`);
    assert.ok(seen.some((s) => /^Rough pass: tile [\d,]+ of [\d,]+/.test(s)) && seen.some((s) => /^Fine pass: crop [\d,]+ of [\d,]+/.test(s)), `progress shown: ${seen.slice(0, 5).join(' | ')}`);
    // Redraws are throttled to one a second: a run that a quiet machine finishes in about 2 s may see only the final one.
    assert.ok(updates >= (seconds > 4 ? 2 : 1), `the overlay is redrawn as results come in and once at the end (${updates} in ${seconds.toFixed(1)} s)`);

    const csv = (await downloaded(page, '#download-csv')).toString('utf8').trim().split('\n');
    compare('12,000 x 12,000 pyramidal TIFF', { overview: await pageOverview(page, dir), csv }, await node);
    const geojson = JSON.parse((await downloaded(page, '#download-geojson')).toString('utf8'));
    assert.equal(geojson.features.length, csv.length - 1);

    // The table holds every object but puts only the rows in view into the page.
    assert.match((await page.locator('#objects-summary').textContent()) ?? '', new RegExp(`^${(csv.length - 1).toLocaleString('en')} objects`));
    const rows = await page.locator('#objects .rows .row').count();
    assert.ok(rows > 0 && rows < 60, `${rows} table rows in the page for ${csv.length - 1} objects`);

    // The viewer: a click on an object zooms to it; the crop boxes toggle off and on.
    await page.locator('#objects .rows .row').nth(3).click();
    await page.waitForFunction(() => Number(document.querySelector('#viewer')?.getAttribute('data-zoom')) > 1, undefined, { timeout: 10_000 });
    assert.equal(await page.locator('#viewer').getAttribute('data-layers'), 'image mask boxes');
    await page.uncheck('#show-boxes');
    assert.equal(await page.locator('#viewer').getAttribute('data-layers'), 'image mask');
    await page.check('#show-boxes');
    await page.close();
  });

  test('a slide without a pyramid is segmented through the streamed downscale, as sts predict does', async () => {
    const flat = join(dir, 'no-pyramid.tif');
    await buildSlide(flat, { width: 5000, height: 4200, copies: 5, pyramid: false, seed: 9 });
    const expected = predicted(flat, pair);
    expected.catch(() => {});
    const page = await web.newPage('?backend=wasm');
    await loadOwnModels(page, modelFolderFiles(pair.rough), modelFolderFiles(pair.fine));
    await page.setInputFiles('#image-input', flat);
    await waitForState(page, 'image', 'ready');
    assert.match((await page.locator('#image-info').textContent()) ?? '', /no pyramid/);
    await page.check('#within-rough');
    await page.fill('#rough-only-up-to', String(OPTIONS.roughOnlyUpTo));
    await page.click('#run');
    await waitForState(page, 'run', 'done', 300_000);
    const info = (await page.locator('#run-info').textContent()) ?? '';
    assert.match(info, /level 0\)/);
    // Where the time went, pass by pass: each pass's networks take part of it, never more.
    const phases = /networks ([\d.]+) (ms|s); rough pass ([\d.]+) (ms|s) \(networks ([\d.]+) (ms|s)\), fine pass ([\d.]+) (ms|s) \(networks ([\d.]+) (ms|s)\), objects ([\d.]+) (ms|s)\)/.exec(info);
    assert.ok(phases, info);
    const ms = (k: number) => Number(phases[k]) * (phases[k + 1] === 's' ? 1000 : 1);
    assert.ok(ms(5) <= ms(3) && ms(9) <= ms(7) && ms(7) > 0, info);
    const csv = (await downloaded(page, '#download-csv')).toString('utf8').trim().split('\n');
    compare('5,000 x 4,200 TIFF without a pyramid', { overview: await pageOverview(page, dir), csv }, await expected);
    await page.close();
  });

  test('names a truncated slide, an unsupported compression and a PNG too large to decode, and keeps working', async () => {
    const page = await web.newPage('?backend=wasm');
    await waitForState(page, 'models', 'ready');
    const message = async () => (await page.locator('#message').textContent()) ?? '';

    const bytes = await readFile(slide);
    const truncated = join(dir, 'truncated.tif');
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await page.setInputFiles('#image-input', truncated);
    await waitForState(page, 'image', 'error');
    assert.match(await message(), /truncated\.tif: (the file is truncated|cannot be read as a TIFF \(.*\); the file may be truncated or damaged)/);

    const j2k = join(dir, 'aperio.svs');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).tiff({ tile: true, tileWidth: 16, tileHeight: 16 }).toFile(j2k);
    await writeFile(j2k, withCompression(await readFile(j2k), 33003));
    await page.setInputFiles('#image-input', j2k);
    await waitForState(page, 'image', 'error');
    assert.match(await message(), /aperio\.svs: unsupported TIFF \(compression 33003, JPEG 2000 .*vips tiffsave/);

    const huge = join(dir, 'huge.png');
    await sharp({ create: { width: 9000, height: 8000, channels: 3, background: '#000' } }).png({ compressionLevel: 1 }).toFile(huge);
    await page.setInputFiles('#image-input', huge);
    await waitForState(page, 'image', 'error');
    assert.match(await message(), /huge\.png: 9000 x 8000 is 72 megapixels, more than this page decodes whole .*convert it to a tiled, pyramidal TIFF/);

    // Still alive: the slide opens.
    await page.setInputFiles('#image-input', slide);
    await waitForState(page, 'image', 'ready');
    await page.close();
  });
});

/** A classic little-endian TIFF with its first IFD's Compression tag (259) set to `code`. */
function withCompression(bytes: Buffer, code: number): Buffer {
  const out = Buffer.from(bytes);
  const ifd = out.readUInt32LE(4);
  for (let i = 0; i < out.readUInt16LE(ifd); i++) {
    const at = ifd + 2 + i * 12;
    if (out.readUInt16LE(at) === 259) out.writeUInt16LE(code, at + 8);
  }
  return out;
}

declare const document: { querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null };
declare const MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, boolean>): void };
/** Runs in the page: keeps every text the run-info line shows. */
function watchRun(): void {
  const info = document.querySelector('#run-info')!;
  const seen: string[] = [];
  (globalThis as unknown as { seen: string[] }).seen = seen;
  new MutationObserver(() => seen.push(info.textContent ?? '')).observe(info, { childList: true, characterData: true, subtree: true });
}
