#!/usr/bin/env node
// Puts a trained pair into the model catalog: models/<name>/rough and fine (the runs' best/ with compact weights)
// and split.json (the rough run's, whose test part the pair never saw). The model card (models/<name>/README.md) is
// written by hand from the evaluation. Usage (after npm run build):
//   node scripts/catalog-add.mjs <name> <rough run folder> <fine run folder> [float16|uint8]
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compactModelFolder } from '../dist/src/engine/compact-weights.js';

const [name, roughRun, fineRun, dtype = 'float16'] = process.argv.slice(2);
if (!name || !roughRun || !fineRun) {
  console.error('usage: node scripts/catalog-add.mjs <name> <rough run> <fine run> [float16|uint8]');
  process.exit(1);
}
const out = new URL(`../models/${name}/`, import.meta.url).pathname;
await mkdir(out, { recursive: true });
for (const [stage, run] of [['rough', roughRun], ['fine', fineRun]]) {
  const { before, after } = await compactModelFolder(join(run, 'best'), join(out, stage), dtype);
  console.log(`${stage}: ${join(run, 'best')} -> ${join(out, stage)} (${dtype}, ${(before / 1e6).toFixed(1)} -> ${(after / 1e6).toFixed(1)} MB)`);
}
await copyFile(join(roughRun, 'split.json'), join(out, 'split.json'));
console.log(`split: ${join(roughRun, 'split.json')} -> ${join(out, 'split.json')}; now write ${join(out, 'README.md')} (the model card)`);
