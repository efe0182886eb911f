#!/usr/bin/env node
// How an instance pair's cores become objects, measured on a split's validation part (never its test part):
// each image is segmented once, then its objects are found with every combination of core threshold, core vote
// and smallest core (every object kept), then with each smallest object size, and scored against the per-object truth (AP@0.5, mean AP, merged). Chose the defaults of
// pipeline/fine-results.ts's InstanceOptions. Usage (after npm run build):
//   node scripts/instance-options.mjs [--model models/nuclei] [--data ../shared/data/dsb2018] [--part valid] [--levels | --flows]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregateInstances, instanceMetrics } from '../dist/src/metrics/instances.js';
import { imageMetrics } from '../dist/src/metrics/metrics.js';
import { objectLabelMap } from '../dist/src/pipeline/fine-results.js';
import { datasetOf, openPair, unionMask } from './lib/instance-pair.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : def);
const model = opt('model', 'models/nuclei');
const data = opt('data', '../shared/data/dsb2018');
const part = opt('part', 'valid');
const ids = JSON.parse(readFileSync(join(model, 'split.json'), 'utf8'))[part];
// The mean over images of the DSC of the objects' union against the truth's.
const unionDsc = (images, o) =>
  images.reduce((sum, { result, truth }) => sum + imageMetrics(unionMask(objectLabelMap(result, result.width, result.height, o)), unionMask(truth)).dsc, 0) / images.length;
const opened = await openPair(model);
const dataset = datasetOf(data, opened);
const recordedMaxCrop = opened.pass.maxCropSide;
// --max-crops 96,128: also try splitting boxes larger than that into S x S windows at full resolution.
const maxCrops = opt('max-crops', '').split(',').filter(Boolean).map(Number);
const segment = async (maxCropSide) => {
  const images = [];
  for (const id of ids) images.push({ result: await dataset.segment(id, { maxCropSide }), truth: await dataset.truth(id) });
  return images;
};
for (const maxCrop of maxCrops) {
  const images = await segment(maxCrop);
  const s = aggregateInstances(images.map(({ result, truth }) => instanceMetrics(objectLabelMap(result, result.width, result.height), truth)));
  console.log(`--max-crop ${maxCrop}: AP@0.5 ${s.perImage.ap50.mean.toFixed(3)}, mean AP ${s.perImage.meanAp.mean.toFixed(3)}, merged ${(100 * s.mergedPooled).toFixed(1)}%, split ${(100 * s.splitPooled).toFixed(1)}%, DSC ${unionDsc(images).toFixed(3)}`);
}
if (maxCrops.length > 0 && !argv.includes('--grid')) process.exit(0);
// The grid runs the pair as sts predict does: boxes larger than the fine network's recorded --max-crop as windows.
const images = await segment(recordedMaxCrop);
console.log(`${ids.length} ${part} images of ${data} with ${model}; DSC of the union ${unionDsc(images).toFixed(3)}`);
// --flows: how a flow pair's flows are followed (instances/follow-flows.ts).
if (argv.includes('--flows')) {
  console.log('unit steps | steps | smallest centre count | centre radius | AP@0.5 | AP@0.75 | mean AP | merged | split');
  const grid = [];
  const decodes = argv.includes('--flows-qc')
    ? [false, true].flatMap((bilinear) => [Infinity, 0.2, 0.4, 0.8].map((maxFlowError) => ({ unitSteps: false, steps: 160, minCount: 32, radius: 5, bilinear, maxFlowError })))
    : [false, true].flatMap((unitSteps) => [40, 80, 160].flatMap((steps) => [8, 16, 32].flatMap((minCount) => [3, 5, 8].map((radius) => ({ unitSteps, steps, minCount, radius, maxFlowError: Infinity })))));
  grid.push(...decodes);
  for (const decode of grid) {
    {
      {
        const { unitSteps, steps, minCount, radius } = decode;
        const o = { flowDecode: decode };
        const s = aggregateInstances(images.map(({ result, truth }) => instanceMetrics(objectLabelMap(result, result.width, result.height, o), truth)));
        console.log(`${unitSteps} | ${steps} | ${minCount} | ${radius}${decode.bilinear !== undefined ? ` | bilinear ${decode.bilinear} | max flow error ${decode.maxFlowError === Infinity ? 'none' : decode.maxFlowError}` : ''} | ${s.perImage.ap50.mean.toFixed(3)} | ${s.perImage.ap75.mean.toFixed(3)} | ${s.perImage.meanAp.mean.toFixed(3)} | ${(100 * s.mergedPooled).toFixed(1)}% | ${(100 * s.splitPooled).toFixed(1)}%`);
      }
    }
  }
  process.exit(0);
}
// --levels: the levels at which fused cores part into seeds (instances/seed-levels.ts), with and without the necks cut.
if (argv.includes('--levels')) {
  console.log('core levels | smallest piece | necks | flood | AP@0.5 | AP@0.75 | mean AP | merged | split');
  const settings = [[], [0.6], [0.7], [0.6, 0.7, 0.8], [0.6, 0.7, 0.8, 0.9], [0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95], [0.7, 0.9]];
  for (const levels of settings) {
    for (const minPiece of levels.length ? [4, 8, 12] : [8]) {
      for (const [necks, coreFlood] of [[undefined, 'distance'], [{ depth: 0, minPiece: 8 }, 'distance'], [undefined, 'relief'], [{ depth: 0, minPiece: 8 }, 'relief']]) {
        const o = { coreLevels: { levels, minPiece }, coreFlood, ...(necks ? { necks } : {}) };
        const s = aggregateInstances(images.map(({ result, truth }) => instanceMetrics(objectLabelMap(result, result.width, result.height, o), truth)));
        console.log(`${levels.join(' ') || 'none'} | ${minPiece} | ${necks ? 'off' : 'on'} | ${coreFlood} | ${s.perImage.ap50.mean.toFixed(3)} | ${s.perImage.ap75.mean.toFixed(3)} | ${s.perImage.meanAp.mean.toFixed(3)} | ${(100 * s.mergedPooled).toFixed(1)}% | ${(100 * s.splitPooled).toFixed(1)}%`);
      }
    }
  }
  process.exit(0);
}
console.log('core threshold | vote | smallest core | AP@0.5 | mean AP | merged | split');
for (const coreThreshold of [0.3, 0.4, 0.5, 0.6, 0.7]) {
  for (const coreVote of ['centre', 'majority', 'any']) {
    for (const minCorePixels of [1, 4, 8]) {
      // Every object kept, so that the grid shows the cores' options alone.
      const o = { coreThreshold, coreVote, minCorePixels, minSize: 0 };
      const s = aggregateInstances(images.map(({ result, truth }) => instanceMetrics(objectLabelMap(result, result.width, result.height, o), truth)));
      console.log(`${coreThreshold} | ${coreVote} | ${minCorePixels} | ${s.perImage.ap50.mean.toFixed(3)} | ${s.perImage.meanAp.mean.toFixed(3)} | ${(100 * s.mergedPooled).toFixed(1)}% | ${(100 * s.splitPooled).toFixed(1)}%`);
    }
  }
}
console.log('smallest object (px), other options at their defaults | AP@0.5 | mean AP | merged | split');
for (const minSize of [0, 5, 10, 15, 20, 30]) {
  const s = aggregateInstances(images.map(({ result, truth }) => instanceMetrics(objectLabelMap(result, result.width, result.height, { minSize }), truth)));
  console.log(`${minSize} | ${s.perImage.ap50.mean.toFixed(3)} | ${s.perImage.meanAp.mean.toFixed(3)} | ${(100 * s.mergedPooled).toFixed(1)}% | ${(100 * s.splitPooled).toFixed(1)}%`);
}
