#!/usr/bin/env node
// An instance pair's Segment-then-Segment at several rough scales (original pixels per rough input pixel), tile by
// tile: the DSC of the objects' union, its pixel recall and AP@0.5. For choosing a fixed-scale pair's rough scale on
// the validation tiles (and, once chosen, reporting the held-out ones). Usage (after npm run build):
//   node scripts/rough-scales.mjs [--model models/nuclei-he] [--data ../shared/data/monuseg-train] [--parts valid,test] [--scales 2,3]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { instanceMetrics } from '../dist/src/metrics/instances.js';
import { imageMetrics } from '../dist/src/metrics/metrics.js';
import { objectLabelMap } from '../dist/src/pipeline/fine-results.js';
import { datasetOf, openPair, unionMask } from './lib/instance-pair.mjs';

const argv = process.argv.slice(2);
const opt = (n, d) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const model = opt('model', 'models/nuclei-he');
const data = opt('data', '../shared/data/monuseg-train');
const parts = opt('parts', 'valid,test').split(',');
const scales = opt('scales', '2,3').split(',').map(Number);
const split = JSON.parse(readFileSync(join(model, 'split.json'), 'utf8'));
const opened = await openPair(model);
const dataset = datasetOf(data, opened);
for (const part of parts) for (const id of split[part]) {
  const truth = await dataset.truth(id);
  const row = [part, id];
  for (const s of scales) {
    const result = await dataset.segment(id, { scale: { ...opened.pass.scale, factorX: s, factorY: s } });
    const labels = objectLabelMap(result, result.width, result.height);
    const m = imageMetrics(unionMask(labels), unionMask(truth));
    const im = instanceMetrics(labels, truth);
    row.push(`s${s}: dsc ${m.dsc.toFixed(3)} rec ${m.recall.toFixed(2)} ap50 ${im.ap50.toFixed(3)}`);
  }
  console.log(row.join(' | '));
}
