/**
 * `npm run bench:web-slide`: the web app on a slide, against `sts predict` on the same file with the same models,
 * in the same run.
 *
 *   npm run bench:web-slide [-- --size 40000 --models models/nuclei --within-rough --rough-only-up-to 64]
 *
 * The slide is bench:large's mosaic (held-out DSB2018 images on black, a tiled pyramidal TIFF, built once and cached
 * in ~/.cache/sts-bench-large), of the models' own held-out images. First `sts predict` segments it (a child
 * process, the torch engine when built), then the page does, in headless Chromium on wasm, opening the file from
 * disk as a user would. Measured: the page's wall time from the click on Segment until objects and overlay are
 * ready, beside `sts predict`'s (the ratio), the renderer process's peak RSS (VmHWM in /proc, the renderer found
 * through the DevTools protocol; sampled each second too), the DSC of the page's mask against sts predict's at
 * overlay resolution and both object counts. Writes bench/results/web-slide.json (runs of other sizes are kept).
 * Flags: --size, --models <dir with rough/, fine/, split.json>, --data, --cache, --within-rough, --rough-only-up-to,
 * --batch (sts predict's), --backend (the page's), --skip-node (reuse sts predict's result of an earlier run),
 * --screenshot <png> (the viewer zoomed into a segmented region, after the run: docs/web-slide.png), --profile <prefix>
 * (CPU profiles of the page's threads during the run, written as <prefix>-<thread>.cpuprofile, their top functions
 * printed; the profiler slows the page, so a profiled run's time is not a measurement).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { openImageSource } from '../src/io/file-image-source.js';
import { readMask } from '../src/io/image-files.js';
import { imageMetrics } from '../src/metrics/metrics.js';
import { packageRoot } from '../src/paths.js';
import { downscaleReader } from '../src/pipeline/downscale-reader.js';
import { overlaySize } from '../src/pipeline/fine-results.js';
import { browserTestsUnavailable, loadOwnModels, modelFolderFiles, pageBackend, startWebSession, waitForState } from '../test/web/browser.js';
import { heldOutImages, mosaic } from './mosaic.js';
import { profileSummary, startPageProfiler } from './page-profile.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '40000' },
    models: { type: 'string', default: join(packageRoot, 'models', 'nuclei') },
    data: { type: 'string', default: join(packageRoot, '..', 'shared', 'data', 'dsb2018') },
    cache: { type: 'string', default: join(homedir(), '.cache', 'sts-bench-large') },
    'within-rough': { type: 'boolean', default: false },
    'rough-only-up-to': { type: 'string' },
    batch: { type: 'string', default: '8' },
    backend: { type: 'string', default: 'wasm' },
    'skip-node': { type: 'boolean', default: false },
    'timeout-min': { type: 'string', default: '600' },
    screenshot: { type: 'string' },
    profile: { type: 'string' },
  },
});
const unavailable = browserTestsUnavailable();
if (unavailable) throw new Error(`cannot run the web slide benchmark: ${unavailable}`);
const log = (line: string) => console.error(`[bench:web-slide] ${new Date().toISOString().slice(11, 19)} ${line}`);
const size = Number(values.size);
const models = values.models!;
const pair = { rough: join(models, 'rough'), fine: join(models, 'fine') };
const roughOnlyUpTo = values['rough-only-up-to'] ? Number(values['rough-only-up-to']) : 0;
const timeoutMs = Number(values['timeout-min']) * 60_000;

const slide = await mosaic(size, 1, { data: values.data!, cache: values.cache!, images: await heldOutImages(join(models, 'split.json'), 'give --models a pair folder with rough/, fine/ and split.json'), log });
log(`slide: ${slide.image} (${size} x ${size}, ${slide.images} images, ${(slide.coverage * 100).toFixed(1)}% covered)`);

// sts predict, in its own process, as a user runs it.
const nodeOut = join(values.cache!, 'out', `web-slide-node-${size}`);
const nodeWallFile = `${nodeOut}.json`;
let nodeWall: number;
const nodeReused = values['skip-node'] && existsSync(nodeWallFile);
if (nodeReused) {
  nodeWall = JSON.parse(await readFile(nodeWallFile, 'utf8')).wall_s;
  log(`sts predict: reusing ${nodeOut} (${nodeWall.toFixed(1)} s)`);
} else {
  await rm(nodeOut, { recursive: true, force: true });
  const args = [join(packageRoot, 'dist/src/cli/main.js'), 'predict', '--rough', pair.rough, '--fine', pair.fine, slide.image, '--out', nodeOut, '--batch', values.batch!];
  if (values['within-rough']) args.push('--within-rough');
  if (roughOnlyUpTo) args.push('--rough-only-up-to', String(roughOnlyUpTo));
  log(`sts predict: node ${args.slice(1).join(' ')}`);
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sts predict exited with ${code}`))));
  });
  nodeWall = (performance.now() - t0) / 1000;
  await writeFile(nodeWallFile, JSON.stringify({ wall_s: nodeWall }));
}
const nodeDir = join(nodeOut, (await readdir(nodeOut))[0]);
const nodeSummary = JSON.parse(await readFile(join(nodeDir, 'summary.json'), 'utf8')) as { objects: number; seconds: number };
log(`sts predict: ${nodeWall.toFixed(1)} s wall, ${nodeSummary.objects} objects`);

// The page.
const web = await startWebSession();
let result: Record<string, unknown>;
try {
  const cdp = await web.browser.newBrowserCDPSession();
  const page = await web.browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (error) => log(`[page error] ${error.message}`));
  await page.goto(`${web.url}?backend=${values.backend}`);
  const backend = await pageBackend(page);
  await loadOwnModels(page, modelFolderFiles(pair.rough), modelFolderFiles(pair.fine));
  const t0 = performance.now();
  await page.setInputFiles('#image-input', slide.image);
  await waitForState(page, 'image', 'ready');
  const openS = (performance.now() - t0) / 1000;
  if (values['within-rough']) await page.check('#within-rough');
  if (roughOnlyUpTo) await page.fill('#rough-only-up-to', String(roughOnlyUpTo));

  const renderers = async () =>
    ((await cdp.send('SystemInfo.getProcessInfo' as never)) as unknown as { processInfo: { type: string; id: number }[] }).processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
  let sampledPeak = 0;
  const sampler = setInterval(async () => {
    for (const pid of await renderers().catch(() => [])) sampledPeak = Math.max(sampledPeak, await procKb(pid, 'VmRSS'));
  }, 1000);
  const progress = setInterval(async () => log(`page: ${await page.locator('#run-info').textContent().catch(() => '?')}`), 60_000);
  const profiler = values.profile ? await startPageProfiler(page) : undefined;
  const t1 = performance.now();
  await page.click('#run');
  await waitDone(page, timeoutMs);
  const wall = (performance.now() - t1) / 1000;
  if (profiler) for (const line of profileSummary(await profiler.stop(values.profile))) log(line);
  clearInterval(sampler);
  clearInterval(progress);
  const peaks = await Promise.all((await renderers()).map((pid) => procKb(pid, 'VmHWM')));
  const peakMb = Math.max(...peaks, sampledPeak) / 1024;
  const info = (await page.locator('#run-info').textContent()) ?? '';
  const summary = (await page.locator('#objects-summary').textContent()) ?? '';
  const objects = objectsCount(summary);
  log(`page: ${wall.toFixed(1)} s (${info}); ${summary.split(';')[0]}; renderer peak RSS ${peakMb.toFixed(0)} MB`);

  const dsc = await maskAgreement(page, join(nodeDir, 'mask.tif'));
  log(`mask DSC page vs sts predict at overlay resolution: ${dsc.toFixed(5)}`);
  result = {
    width: size,
    height: size,
    wall_s: round(wall),
    node_wall_s: round(nodeWall),
    ratio: round(wall / nodeWall),
    peak_rss_mb: Math.round(peakMb),
    peak_rss_sampled_mb: Math.round(sampledPeak / 1024),
    dsc_vs_node: round(dsc, 5),
    objects,
    node_objects: nodeSummary.objects,
    // --skip-node: sts predict's time is from an earlier run, not this one.
    node_reused: nodeReused,
    open_s: round(openS),
    page: info,
    backend,
    browser: web.browser.version(),
    models,
    options: { within_rough: values['within-rough'], rough_only_up_to: roughOnlyUpTo, node_batch: Number(values.batch) },
    slide: { path: slide.image, images: slide.images, coverage: round(slide.coverage) },
    date: new Date().toISOString(),
  };
  if (values.screenshot) await screenshot(page, values.screenshot);
  await page.close();
} finally {
  await web.close();
}

// One result per size: the largest at the top level, the others under other_sizes.
const path = join(packageRoot, 'bench/results/web-slide.json');
const previous = await readFile(path, 'utf8').then((t) => JSON.parse(t) as Record<string, unknown> & { other_sizes?: Record<string, unknown>[] }, () => undefined);
const { other_sizes: earlier = [], ...previousTop } = previous ?? {};
const runs = [...earlier, ...(previous ? [previousTop] : []), result];
const bySize = [...new Map(runs.map((r) => [r.width, r])).values()].sort((a, b) => Number(b.width) - Number(a.width));
await mkdir(join(packageRoot, 'bench/results'), { recursive: true });
await writeFile(path, `${JSON.stringify({ ...bySize[0], other_sizes: bySize.slice(1) }, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));

/** The page's mask download (at overlay resolution) against sts predict's mask.tif sampled the same way. */
async function maskAgreement(page: Page, nodeMask: string): Promise<number> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 600_000 }), page.click('#download-mask')]);
  const pageMask = await readMask(await download.path());
  const source = await openImageSource(nodeMask, { channels: 1 });
  const { width, height } = overlaySize(source.width, source.height);
  const rows = await downscaleReader(source, width, height, { exact: true }).readRows(0, height);
  return imageMetrics(pageMask, { width, height, channels: 1, data: rows.data.map((v) => (v >= 128 ? 1 : 0)) }).dsc;
}

/**
 * The viewer zoomed into a segmented region: around the refined nucleus (300 to 3,000 px) with the most objects
 * near it, picked from the page's CSV, reached by clicking its row in the table.
 */
async function screenshot(page: Page, path: string): Promise<void> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
  const objects = (await readFile(await download.path(), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  const candidates = objects.filter((o) => o[1] >= 300 && o[1] <= 3000).slice(0, 2000);
  const near = (o: number[]) => objects.filter((p) => Math.abs(p[6] - o[6]) < 120 && Math.abs(p[7] - o[7]) < 80).length;
  const best = candidates.reduce((a, b) => (near(b) > near(a) ? b : a), candidates[0] ?? objects[0]);
  const index = best[0] - 1;
  await page.locator('#objects').evaluate((e, top) => (e.scrollTop = top), index * 22);
  await page.waitForTimeout(500);
  await page.locator(`#objects .rows .row[data-index="${index}"]`).click();
  await page.waitForTimeout(2000);
  await page.mouse.move(810, 430);
  await page.mouse.wheel(0, 200);
  await page.waitForTimeout(12_000);
  await page.screenshot({ path });
  log(`screenshot: ${path} (around object ${best[0]}, ${best[1]} px at ${best[6]}, ${best[7]})`);
}

function objectsCount(summary: string | null): number {
  return Number((summary ?? '0').split(' ')[0].replace(/,/g, ''));
}

/** Waits for the run to finish, polling every few seconds (a slide on wasm takes a long while). */
async function waitDone(page: Page, timeout: number): Promise<void> {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const state = await page.locator('#status').getAttribute('data-run');
    if (state === 'done') return;
    if (state === 'error' || state === 'cancelled') throw new Error(`the page's run ended ${state}: ${await page.locator('#message').textContent()}`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
  throw new Error(`the page did not finish within ${timeout / 60_000} min`);
}

async function procKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
}

function round(v: number, digits = 3): number {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}
