#!/usr/bin/env node
// Whether a lower threshold on the rough probability helps Segment-then-Segment: more of the objects the rough pass
// half-sees get a crop, and the fine network, which looks at each at full resolution, decides what is in it. The
// rough network is wrapped so that thresholding its output at 0.5 (what the pipeline does) thresholds the original
// probability at t; the fine network and everything else are as `sts evaluate` runs the pair. Prints, per t, the mean
// baseline and StS DSC over the images (a split's part, or all). Usage (after npm run build):
//   node scripts/rough-threshold.mjs --model models/polyp --data ../shared/data/cvc-colondb [--split s.json --part valid] [--thresholds 0.5,0.3,0.2,0.1]
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { loadModelPair } from '../dist/src/catalog/catalog.js';
import { openDataset } from '../dist/src/datasets/open-dataset.js';
import { splitSamples } from '../dist/src/datasets/split.js';
import { initEngine } from '../dist/src/engine/backend.js';
import { evaluate } from '../dist/src/experiments/evaluate.js';
import { pairPassOfModels } from '../dist/src/types/training-scale.js';

const argv = process.argv.slice(2);
const opt = (name, def) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);
const model = opt('model', 'models/polyp');
const data = opt('data', '../shared/data/cvc-colondb');
const thresholds = opt('thresholds', '0.5,0.3,0.2,0.1').split(',').map(Number);
await initEngine();
const pair = await loadModelPair(model.includes('/') ? { rough: join(model, 'rough'), fine: join(model, 'fine') } : model);
const dataset = await openDataset(data, { channels: pair.rough.channels, labels: true });
const split = opt('split');
const samples = split ? splitSamples(JSON.parse(readFileSync(split, 'utf8')), dataset)[opt('part', 'valid')] : dataset.samples;
const pass = pairPassOfModels(pair.rough.metadata, pair.fine.metadata);
const rough = pair.rough.network();
const fine = pair.fine.network({ batchSize: 16 });
// Monotone, and equal to 0.5 exactly at t: the pipeline's ">= 0.5" then means "p >= t".
const shifted = (t) => Object.assign(async (inputs) => (await rough(inputs)).map((map) => map.map((p) => (p >= t ? 0.5 + (0.5 * (p - t)) / (1 - t) : (0.5 * p) / t))), rough);
const mean = (rows, method) => {
  const r = rows.filter((row) => row.method === method);
  return r.reduce((s, row) => s + row.dsc, 0) / r.length;
};
console.log(`${model} on ${samples.length} images of ${data}`);
for (const t of thresholds) {
  const { rows } = await evaluate({
    dataset, samples, size: pair.size, rough: shifted(t), fine, dropPolicy: 'reference', fallback: 'rough',
    ...(pass.tileAbove === 0 && pass.scale ? { scale: pass.scale } : {}), ...(pass.maxCropSide !== undefined ? { maxCropSide: pass.maxCropSide } : {}),
  });
  console.log(`t ${t}: baseline DSC ${mean(rows, 'baseline').toFixed(3)}, StS DSC ${mean(rows, 'sts').toFixed(3)}, crops ${rows.filter((r) => r.method === 'sts').reduce((s, r) => s + r.crops, 0)}`);
}
