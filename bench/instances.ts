/**
 * `npm run bench:instances -- --pair <name|rough,fine> [--pair ...] [--data <dataset>] [--split <split.json>] [--out <file.json>]`:
 * objects as a user gets them from `sts predict`, scored against per-object truth, pairs side by side in one run.
 *
 * Each pair predicts every test image of the split (the catalog's nuclei split by default) through the same code as
 * `sts predict` (pipeline/predictor.ts), one after the other on the same engine; its objects (labels.png for an
 * instance pair, the mask's connected components for a semantic one) are scored against `<data>/instances/<id>.png`
 * with the 2018 Data Science Bowl's metric (metrics/instances.ts), and its union mask with DSC. Prints one line per
 * pair: AP@0.5, AP@0.75, mean AP 0.5:0.95, merged and split (pooled over all true objects), DSC, and the median and
 * mean seconds per image (`summary.json`'s, from file to written result). Writes bench/results/instances.json (or
 * `--out <file.json>`: an experiment's run, kept apart from the committed result);
 * `--per-image <file.csv>` also writes each image's scores per pair, with the image's kind (datasets/appearance.ts),
 * and prints the means per kind. Run it on a quiet machine: the time ratio between pairs is what it is for.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appearanceOf } from '../src/datasets/appearance.js';
import { initEngine } from '../src/engine/backend.js';
import { componentLabelMap, labelForeground } from '../src/geometry/label-map.js';
import { readLabelMap } from '../src/io/label-maps.js';
import { readImage, readMask } from '../src/io/image-files.js';
import { confusion, metricsFromConfusion } from '../src/metrics/metrics.js';
import { aggregateInstances, instanceMetrics } from '../src/metrics/instances.js';
import { createPredictor } from '../src/pipeline/predictor.js';
import { DEFAULT_DROP_POLICY } from '../src/pipeline/segment-then-segment.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const argv = process.argv.slice(2);
const all = (name: string) => argv.flatMap((a, i) => (a === `--${name}` ? [argv[i + 1]] : []));
const opt = (name: string, def: string) => all(name)[0] ?? def;
const pairs = all('pair').length ? all('pair') : ['nuclei'];
const data = resolve(opt('data', join(root, '../shared/data/dsb2018')));
const split = JSON.parse(readFileSync(opt('split', join(root, 'models/nuclei/split.json')), 'utf8')) as { test: string[] };
const ids = split.test.slice(0, Number(opt('images', '100000')));

const engine = await initEngine({ warn: (line) => console.error(line) });
console.error(`engine: ${engine.backend}, ${engine.threads} threads; ${ids.length} test images of ${data}`);
const rows: { pair: string; meanSeconds: number }[] = [];
const perImageFile = all('per-image')[0];
const perImageLines = ['pair,id,kind,ap50,ap75,mean_ap,true_objects,merged,split'];
const kinds = new Map<string, string>();
for (const pair of pairs) {
  const [rough, fine] = pair.split(',');
  const predictor = await createPredictor(fine ? { rough, fine } : rough, { batch: 32, tiling: true, dropPolicy: DEFAULT_DROP_POLICY, resize: 'nearest' });
  const out = mkdtempSync(join(tmpdir(), 'sts-bench-instances-'));
  const perImage = [];
  const seconds: number[] = [];
  let dsc = 0;
  try {
    for (const id of ids) {
      const result = await predictor.predictFile(join(data, 'images', `${id}.png`), out);
      if (result.skipped) throw new Error(`${id}: skipped`);
      seconds.push(result.summary.seconds);
      const mask = await readMask(join(result.dir, result.summary.files[0]));
      const objects = result.summary.files.includes('labels.png') ? await readLabelMap(join(result.dir, 'labels.png')) : componentLabelMap(mask);
      const truth = await readLabelMap(join(data, 'instances', `${id}.png`));
      const m = instanceMetrics(objects, truth);
      perImage.push(m);
      if (perImageFile) {
        if (!kinds.has(id)) kinds.set(id, appearanceOf(await readImage(join(data, 'images', `${id}.png`))));
        // A pair given as rough,fine is written rough+fine: one CSV field.
        perImageLines.push([pair.replace(',', '+'), id, kinds.get(id), m.ap50, m.ap75, m.meanAp, m.trueObjects, m.mergedObjects, m.splitObjects].join(','));
      }
      dsc += metricsFromConfusion(confusion(mask, labelForeground(truth))).dsc;
    }
  } finally {
    predictor.dispose();
    rmSync(out, { recursive: true, force: true });
  }
  const s = aggregateInstances(perImage);
  const sorted = [...seconds].sort((a, b) => a - b);
  const row = {
    pair,
    images: ids.length,
    ap50: s.perImage.ap50.mean,
    ap75: s.perImage.ap75.mean,
    meanAp: s.perImage.meanAp.mean,
    merged: s.mergedPooled,
    split: s.splitPooled,
    trueObjects: s.trueObjects,
    predictedObjects: s.predictedObjects,
    dsc: dsc / ids.length,
    medianSeconds: sorted[Math.floor(sorted.length / 2)],
    meanSeconds: seconds.reduce((a, b) => a + b, 0) / seconds.length,
  };
  rows.push(row);
  console.log(
    `${pair}: AP@0.5 ${row.ap50.toFixed(3)}, AP@0.75 ${row.ap75.toFixed(3)}, mean AP ${row.meanAp.toFixed(3)}, merged ${(100 * row.merged).toFixed(1)}%, ` +
      `split ${(100 * row.split).toFixed(1)}%, ${row.predictedObjects} objects for ${row.trueObjects} true, DSC ${row.dsc.toFixed(3)}, ` +
      `${row.medianSeconds.toFixed(3)} s median (${row.meanSeconds.toFixed(3)} mean) per image`,
  );
}
if (rows.length > 1) console.log(`time per image, mean, against the first pair: ${rows.slice(1).map((r) => `${r.pair} ${(r.meanSeconds / rows[0].meanSeconds).toFixed(2)}x`).join(', ')}`);
if (perImageFile) {
  writeFileSync(perImageFile, `${perImageLines.join('\n')}\n`);
  const groups = new Map<string, number[][]>();
  for (const line of perImageLines.slice(1)) {
    const [pair, , kind, ap50, , meanAp] = line.split(',');
    const key = `${pair} ${kind}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push([Number(ap50), Number(meanAp)]);
  }
  for (const [key, v] of groups) console.log(`${key}: ${v.length} images, AP@0.5 ${(v.reduce((a, x) => a + x[0], 0) / v.length).toFixed(3)}, mean AP ${(v.reduce((a, x) => a + x[1], 0) / v.length).toFixed(3)}`);
}
writeFileSync(opt('out', join(root, 'bench/results/instances.json')), `${JSON.stringify({ date: new Date().toISOString(), engine: engine.backend, threads: engine.threads, data, rows }, null, 2)}\n`);
