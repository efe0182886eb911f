/**
 * Instances in the page: the catalog's nuclei pair (an instance pair: its fine network outputs object cores) gives
 * the page the same objects as `sts predict --model nuclei` for the same image, touching nuclei split alike, through
 * the one library code (detectObjects) on both sides.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runPredict } from '../../src/cli/commands/predict.js';
import { packageRoot } from '../../src/paths.js';
import '../support/engine.js';
import { type WebSession, browserTestsUnavailable, startWebSession, waitForState } from './browser.js';

const FIXTURE = join(packageRoot, 'test/fixtures/web/dsb2018-00071198.png');
const unavailable = browserTestsUnavailable();

describe('instances in headless Chromium', { skip: unavailable }, () => {
  let web: WebSession;
  let expected: { csv: string; summary: { objects: number; objectKind: string } };
  before(async () => {
    const predicted = async () => {
      const out = await mkdtemp(join(tmpdir(), 'sts-web-instances-'));
      try {
        await runPredict([FIXTURE], { model: 'nuclei', out, batch: 8, tiling: true, dropPolicy: 'clip', resize: 'nearest' });
        const [folder] = await readdir(out);
        return {
          csv: await readFile(join(out, folder, 'objects.csv'), 'utf8'),
          summary: JSON.parse(await readFile(join(out, folder, 'summary.json'), 'utf8')),
        };
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    };
    [web, expected] = await Promise.all([startWebSession(), predicted()]);
  });
  after(async () => web?.close());

  test("the nuclei instance pair gives the page sts predict's objects, row for row", async () => {
    assert.equal(expected.summary.objectKind, 'instances', 'the catalog nuclei pair is an instance pair');
    const page = await web.newPage('?backend=wasm&pair=nuclei');
    // The page fills the pair list after fetching its catalog: read the choice once the pair has loaded.
    await waitForState(page, 'models', 'ready');
    assert.equal(await page.locator('#pair').inputValue(), 'nuclei');
    await page.setInputFiles('#image-input', FIXTURE);
    await waitForState(page, 'image', 'ready');
    await page.click('#run');
    await waitForState(page, 'run', 'done');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    const csv = (await readFile(await download.path(), 'utf8')).trim().split('\n');
    const rows = expected.csv.trim().split('\n');
    assert.equal(csv[0], rows[0]);
    const differing = csv.filter((row, i) => row !== rows[i]).length;
    console.log(`# nuclei instance pair, page (wasm) vs sts predict: ${csv.length - 1} vs ${rows.length - 1} objects, ${differing} rows differ`);
    assert.equal(csv.length, rows.length, 'as many objects as sts predict');
    assert.equal(rows.length - 1, expected.summary.objects);
    // The engines' float order may move a pixel on a threshold; every other row must be equal.
    assert.ok(differing <= Math.ceil(0.02 * csv.length), `${differing} of ${csv.length - 1} rows differ from sts predict's`);
  });
});
