#!/usr/bin/env node
// An instance pair's Segment-then-Segment at several rough scales (original pixels per rough input pixel), tile by
// tile: the DSC of the objects' union, its pixel recall and AP@0.5. For choosing a fixed-scale pair's rough scale on
// the validation tiles (and, once chosen, reporting the held-out ones). Usage (after npm run build):
//   node scripts/rough-scales.mjs [--model models/nuclei-he] [--data ../shared/data/monuseg-train] [--parts valid,test] [--scales 2,3]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelPair } from '../dist/src/catalog/catalog.js';
import { initEngine } from '../dist/src/engine/backend.js';
import { openImageSource } from '../dist/src/io/file-image-source.js';
import { readLabelMap } from '../dist/src/io/label-maps.js';
import { instanceMetrics } from '../dist/src/metrics/instances.js';
import { imageMetrics } from '../dist/src/metrics/metrics.js';
import { objectLabelMap } from '../dist/src/pipeline/fine-results.js';
import { streamingSegmentThenSegment } from '../dist/src/pipeline/streaming-sts.js';
import { pairPassOfModels } from '../dist/src/types/training-scale.js';

const argv = process.argv.slice(2);
const opt = (n, d) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const model = opt('model', 'models/nuclei-he');
const data = opt('data', '../shared/data/monuseg-train');
const parts = opt('parts', 'valid,test').split(',');
const scales = opt('scales', '2,3').split(',').map(Number);
const split = JSON.parse(readFileSync(join(model, 'split.json'), 'utf8'));
const files = readdirSync(join(data, 'images'));
await initEngine();
const pair = await loadModelPair({ rough: join(model, 'rough'), fine: join(model, 'fine') });
const pass = pairPassOfModels(pair.rough.metadata, pair.fine.metadata, { tiling: true });
const rough = pair.rough.network({ batchSize: 32 }), fine = pair.fine.network({ batchSize: 32 });
const mask = (m) => ({ width: m.width, height: m.height, channels: 1, data: Uint8Array.from(m.data, (v) => (v ? 1 : 0)) });
for (const part of parts) for (const id of split[part]) {
  const truth = await readLabelMap(join(data, 'instances', `${id}.png`));
  const row = [part, id];
  for (const s of scales) {
    const source = await openImageSource(join(data, 'images', files.find((f) => f.startsWith(`${id}.`))), { channels: pair.channels });
    const result = await streamingSegmentThenSegment(source, { size: pair.size, rough, fine, scale: { ...pass.scale, factorX: s, factorY: s }, tileAbove: pass.tileAbove, dropPolicy: 'clip', batchSize: 32, maxCropSide: pass.maxCropSide });
    await source.close();
    const labels = objectLabelMap(result, result.width, result.height);
    const m = imageMetrics(mask(labels), mask(truth));
    const im = instanceMetrics(labels, truth);
    row.push(`s${s}: dsc ${m.dsc.toFixed(3)} rec ${m.recall.toFixed(2)} ap50 ${im.ap50.toFixed(3)}`);
  }
  console.log(row.join(' | '));
}
