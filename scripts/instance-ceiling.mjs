#!/usr/bin/env node
// The instance representation's ceiling on a split's part (default valid): (1) the true cores split the true union
// mask at full resolution; (2) perfect networks through the pipeline at S (the truth's foreground and cores painted
// into an image's red and green channels, read back by stand-in networks, so each crop samples them exactly as the
// training targets are sampled). Usage (after npm run build):
//   node scripts/instance-ceiling.mjs [--data ../shared/data/dsb2018] [--split models/nuclei/split.json] [--part valid] [--size 64]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreOfLabels } from '../dist/src/instances/core-target.js';
import { splitByCores } from '../dist/src/instances/split-by-cores.js';
import { readLabelMap } from '../dist/src/io/label-maps.js';
import { rasterImageSource } from '../dist/src/io/raster-image-source.js';
import { aggregateInstances, instanceMetrics } from '../dist/src/metrics/instances.js';
import { objectLabelMap } from '../dist/src/pipeline/fine-results.js';
import { streamingSegmentThenSegment } from '../dist/src/pipeline/streaming-sts.js';

const argv = process.argv.slice(2);
const opt = (name, def) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);
const data = opt('data', '../shared/data/dsb2018');
const part = opt('part', 'valid');
const size = Number(opt('size', '64'));
const ids = JSON.parse(readFileSync(opt('split', 'models/nuclei/split.json'), 'utf8'))[part];
const rough = async (xs) => xs.map((x) => Float32Array.from({ length: x.width * x.height }, (_, i) => (x.data[i * 3] > 100 ? 1 : 0)));
const fine = Object.assign(
  async (xs) => xs.map((x) => Float32Array.from({ length: x.width * x.height * 2 }, (_, j) => (j % 2 === 0 ? (x.data[(j >> 1) * 3] > 100 ? 1 : 0) : x.data[(j >> 1) * 3 + 1] > 128 ? 1 : 0))),
  { outputs: 2 },
);
const full = [];
const piped = [];
for (const id of ids) {
  const truth = await readLabelMap(join(data, 'instances', `${id}.png`));
  const core = coreOfLabels(truth);
  const foreground = Uint8Array.from(truth.data, (v) => (v ? 1 : 0));
  full.push(instanceMetrics(splitByCores(foreground, core, truth.width, truth.height), truth));
  const image = new Uint8Array(truth.width * truth.height * 3);
  for (let i = 0; i < foreground.length; i++) (image[i * 3] = foreground[i] ? 200 : 0), (image[i * 3 + 1] = core[i] ? 255 : 0);
  const result = await streamingSegmentThenSegment(rasterImageSource({ width: truth.width, height: truth.height, channels: 3, data: image }), { size, rough, fine, dropPolicy: 'clip', batchSize: 32 });
  piped.push(instanceMetrics(objectLabelMap(result, truth.width, truth.height), truth));
}
const line = (what, rows) => {
  const s = aggregateInstances(rows);
  console.log(`${what}: AP@0.5 ${s.perImage.ap50.mean.toFixed(3)}, mean AP ${s.perImage.meanAp.mean.toFixed(3)}, merged ${(100 * s.mergedPooled).toFixed(1)}%, split ${(100 * s.splitPooled).toFixed(1)}%`);
};
console.log(`${ids.length} ${part} images of ${data}`);
line('true cores split the true union (full resolution)', full);
line(`perfect networks through the pipeline at S = ${size}`, piped);
