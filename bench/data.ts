/**
 * Data benchmark (not a test): samples per second of the rough and fine samplers (training settings: augmentation,
 * jitter) at S = 64 on the real DSB2018 and Kvasir-SEG folders, decoding from disk each time as training does.
 *
 *   npm run bench:data [-- --data /path/to/shared/data --size 64 --samples 200 --batch 16]
 *
 * Prints a table and writes bench/results/data.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openDataset } from '../src/datasets/open-dataset.js';
import { type Stage, epochBatches } from '../src/train/sampler.js';
import { validateDataset } from '../src/datasets/validate.js';
import { packageRoot } from '../src/paths.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    samples: { type: 'string', default: '200' },
    batch: { type: 'string', default: '16' },
  },
});
const size = Number(values.size);
const limit = Number(values.samples);
const batchSize = Number(values.batch);

const rows: { dataset: string; stage: Stage; samples: number; seconds: number; perSecond: number }[] = [];
for (const preset of ['cells', 'polyp']) {
  const dataset = await openDataset(preset);
  const t0 = performance.now();
  await validateDataset(dataset);
  console.log(`${preset}: ${dataset.samples.length} samples at ${dataset.root}, validated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const samples = dataset.samples.slice(0, limit);
  for (const stage of ['rough', 'fine'] as const) {
    const start = performance.now();
    let n = 0;
    for await (const batch of epochBatches(dataset, samples, 0, { stage, size, batchSize, seed: 1 })) n += batch.count;
    const seconds = (performance.now() - start) / 1000;
    rows.push({ dataset: preset, stage, samples: n, seconds, perSecond: n / seconds });
  }
}
console.log(`\nS = ${size}, batch ${batchSize}, augmentation on, ${limit} samples each:`);
console.log('dataset  stage   samples/s');
for (const r of rows) console.log(`${r.dataset.padEnd(8)} ${r.stage.padEnd(7)} ${r.perSecond.toFixed(1).padStart(9)}`);
mkdirSync(join(packageRoot, 'bench', 'results'), { recursive: true });
writeFileSync(join(packageRoot, 'bench', 'results', 'data.json'), `${JSON.stringify({ size, batchSize, rows }, null, 1)}\n`);
