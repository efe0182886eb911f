#!/usr/bin/env node
// Copies the best model of each training run into the web app (web/public/models/<pair>-<stage>/) and writes the
// catalog the page lists them from, with how each pair was trained, read from the runs' own config and log.
// Usage: node scripts/bundle-web-models.mjs <runs folder holding cells-rough, cells-fine, polyp-rough, polyp-fine>
import { access, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const PAIRS = [
  { id: 'cells', name: 'Nuclei (DSB2018), U-Net' },
  { id: 'polyp', name: 'Polyps (Kvasir-SEG), U-Net' },
];
const runs = process.argv[2];
if (!runs) {
  console.error('usage: node scripts/bundle-web-models.mjs <runs folder with <pair>-rough and <pair>-fine runs>');
  process.exit(1);
}
const out = new URL('../web/public/models/', import.meta.url).pathname;

async function describeRun(dir) {
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  const log = (await readFile(join(dir, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  const last = log.at(-1);
  const { model, batchSize, learningRate, stage } = config;
  return (
    `${stage}: ${model.name}, ${model.features} base features, S = ${model.size}, ${last.epoch} epochs ` +
    `(batch ${batchSize}, lr ${learningRate}, Adam), best validation DSC ${last.bestDsc.toFixed(3)} at epoch ${last.bestEpoch}`
  );
}

const pairs = [];
for (const pair of PAIRS) {
  if (!(await Promise.all(['rough', 'fine'].map((s) => access(join(runs, `${pair.id}-${s}`, 'best', 'model.json')).then(() => true, () => false)))).every(Boolean)) {
    console.warn(`skipping ${pair.id}: ${runs} has no ${pair.id}-rough/best and ${pair.id}-fine/best`);
    continue;
  }
  const parts = [];
  for (const stage of ['rough', 'fine']) {
    const run = join(runs, `${pair.id}-${stage}`);
    await mkdir(join(out, `${pair.id}-${stage}`), { recursive: true });
    for (const file of ['model.json', 'weights.bin']) await copyFile(join(run, 'best', file), join(out, `${pair.id}-${stage}`, file));
    parts.push(await describeRun(run));
  }
  pairs.push({
    id: pair.id,
    name: pair.name,
    rough: `${pair.id}-rough/model.json`,
    fine: `${pair.id}-fine/model.json`,
    training: `trained with 'sts train --data ${pair.id} --model unet --features 8 --size 64' on 1 CPU thread; ${parts.join('; ')}. Small demonstration models, far from the paper's 100+ epochs.`,
  });
}
await writeFile(join(out, 'catalog.json'), JSON.stringify({ pairs }, null, 2) + '\n');
console.log(`wrote ${pairs.length} pairs to ${out}`);
