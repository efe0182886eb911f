/**
 * Web app benchmark (not a test): load time and time to result for a 1,000 x 1,000 nuclei image in headless
 * Chromium (Debian's), served from web/dist by Vite's preview server.
 *
 *   npm run bench:web [-- --backend wasm --runs 3 --side 1000] [--pair polyp --image some.jpg] [--baseline DIR [--baseline-isolated]]
 *
 * The image is the e2e fixture (a real DSB2018 image) tiled 4 x 4 and cut to 1,000 x 1,000, so it holds many
 * nuclei and many crops; `--image` gives another (then `--side` is unused). `--pair` picks a bundled pair by its id
 * (the page's `?pair=`; default the page's first, the nuclei pair); `--query threads=1` adds page parameters. Load time: from navigation until the engine has
 * started and the pair is loaded. Time to result: from the click on Segment until the overlay is shown. Writes
 * bench/results/web.json (web-<pair>.json with `--pair`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { readImage } from '../src/io/image-files.js';
import { packageRoot } from '../src/paths.js';
import { type WebSession, browserTestsUnavailable, pageEngine, startWebSession, waitForState } from '../test/web/browser.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    runs: { type: 'string', default: '3' },
    side: { type: 'string', default: '1000' },
    pair: { type: 'string' },
    image: { type: 'string' },
    baseline: { type: 'string' },
    // The baseline build served cross-origin isolated too (a build of this page since isolation; the issue's build
    // predates it and is served as it was then).
    'baseline-isolated': { type: 'boolean', default: false },
    query: { type: 'string', default: '' },
  },
});
const unavailable = browserTestsUnavailable();
if (unavailable) throw new Error(`cannot run the web benchmark: ${unavailable}`);

const SIDE = Number(values.side);
const dir = await mkdtemp(join(tmpdir(), 'sts-bench-web-'));
const imagePath = values.image ?? join(dir, 'nuclei-1000.png');
if (!values.image) {
  const tile = await readImage(join(packageRoot, 'test/fixtures/web/dsb2018-00071198.png'));
  const pixels = Buffer.alloc(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const s = ((y % tile.height) * tile.width + (x % tile.width)) * 3;
      pixels.set(tile.data.subarray(s, s + 3), (y * SIDE + x) * 3);
    }
  }
  await sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toFile(imagePath);
}
const { width: imageWidth, height: imageHeight } = await sharp(imagePath).metadata();

const builds: { label: string; web: WebSession }[] = [{ label: 'this build', web: await startWebSession() }];
if (values.baseline) builds.push({ label: `baseline ${values.baseline}`, web: await startWebSession({ dist: values.baseline, isolated: values['baseline-isolated'] }) });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.floor((s.length - 1) / 2)] + s[Math.ceil((s.length - 1) / 2)]) / 2);
};
try {
  const rows: Record<string, number | string | boolean>[] = [];
  for (let run = 1; run <= Number(values.runs); run++) {
    // Alternating, so that a machine that gets busier or quieter weighs on both builds alike.
    for (const { label, web } of builds) rows.push({ build: label, ...(await timeRun(web, run)) });
  }
  const summary = builds.map(({ label }) => ({ build: label, medianResultMs: median(rows.filter((r) => r.build === label).map((r) => r.resultMs as number)) }));
  if (builds.length === 2) console.log(`median time to result: this build ${summary[0].medianResultMs} ms, ${summary[1].build} ${summary[1].medianResultMs} ms: ${(summary[1].medianResultMs / summary[0].medianResultMs).toFixed(2)}x faster`);
  mkdirSync(join(packageRoot, 'bench/results'), { recursive: true });
  writeFileSync(
    join(packageRoot, 'bench/results', values.pair ? `web-${values.pair}.json` : 'web.json'),
    JSON.stringify({ date: new Date().toISOString(), browser: builds[0].web.browser.version(), pair: values.pair ?? 'first', image: `${imageWidth} x ${imageHeight}`, summary, rows }, null, 2) + '\n',
  );
} finally {
  for (const { web } of builds) await web.close();
  await rm(dir, { recursive: true, force: true });
}

async function timeRun(web: WebSession, run: number): Promise<Record<string, number | string | boolean>> {
  const page = await web.browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    const t0 = performance.now();
    await page.goto(`${web.url}?backend=${values.backend}${values.pair ? `&pair=${encodeURIComponent(values.pair)}` : ''}${values.query ? `&${values.query}` : ''}`);
    const { backend, isolated, threads, line } = await pageEngine(page);
    await waitForState(page, 'models', 'ready');
    const loadMs = performance.now() - t0;
    const chosen = await page.locator('#pair').inputValue();
    if (values.pair && chosen !== values.pair) throw new Error(`the page has no bundled pair '${values.pair}' (it chose '${chosen}'); see web/public/models/catalog.json`);
    const t1 = performance.now();
    await page.setInputFiles('#image-input', imagePath);
    await waitForState(page, 'image', 'ready');
    const openMs = performance.now() - t1;
    const t2 = performance.now();
    await page.click('#run');
    await waitForState(page, 'run', 'done', 600_000);
    const resultMs = performance.now() - t2;
    const info = (await page.locator('#run-info').textContent()) ?? '';
    const objects = (await page.locator('#objects-summary').textContent())?.split(';')[0] ?? '';
    console.log(
      `run ${run} (${web.url}, ${line}): load ${loadMs.toFixed(0)} ms, open ${imageWidth} x ${imageHeight} image ${openMs.toFixed(0)} ms, ` +
        `time to result ${resultMs.toFixed(0)} ms (page: ${info} ${objects})`,
    );
    return { run, backend, isolated, threads, loadMs: Math.round(loadMs), openMs: Math.round(openMs), resultMs: Math.round(resultMs), page: info, objects };
  } finally {
    await page.close();
  }
}
