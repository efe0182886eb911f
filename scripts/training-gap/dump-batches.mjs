#!/usr/bin/env node
// Writes the batches our trainer feeds the cells rough network at S = 32 (batch 16, seed 42, the paper's
// augmentation) for epochs 0..E-1, and the validation batches, as raw float32 files (NHWC inputs, masks), so that
// another trainer (PyTorch, train_pytorch_on_batches.py) can be fed exactly what ours is. After npm run build:
//   node scripts/training-gap/dump-batches.mjs <split.json> <out folder> [epochs, default 100] [dataset, default cells]
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDataset } from '../../dist/src/datasets/open-dataset.js';
import { withLoadCache } from '../../dist/src/datasets/load-cache.js';
import { loadOrCreateSplit, splitSamples } from '../../dist/src/datasets/split.js';
import { datasetTrainingData } from '../../dist/src/train/dataset-training-data.js';

const [splitFile, out, epochs = '100', data = 'cells'] = process.argv.slice(2);
if (!splitFile || !out) {
  console.error('usage: node scripts/training-gap/dump-batches.mjs <split.json> <out folder> [epochs] [dataset]');
  process.exit(1);
}
const S = 32, BATCH = 16, SEED = 42;
await mkdir(out, { recursive: true });
await copyFile(splitFile, join(out, 'split.json'));
const dataset = await openDataset(data);
const { split } = await loadOrCreateSplit(out, dataset, { seed: SEED });
const parts = splitSamples(split, dataset);
const training = datasetTrainingData(withLoadCache(dataset), parts, { stage: 'rough', size: S });

async function dump(name, batches) {
  const inputs = [];
  const masks = [];
  for await (const b of batches) {
    inputs.push(Buffer.from(b.inputs.buffer, b.inputs.byteOffset, b.count * S * S * b.channels * 4));
    masks.push(Buffer.from(b.masks.buffer, b.masks.byteOffset, b.count * S * S * 4));
  }
  await writeFile(join(out, `${name}_x.f32`), Buffer.concat(inputs));
  await writeFile(join(out, `${name}_y.f32`), Buffer.concat(masks));
}
await dump('valid', training.validationBatches(BATCH));
for (let e = 0; e < Number(epochs); e++) {
  await dump(`train${e}`, training.trainBatches(e, BATCH, SEED));
  process.stdout.write(`\repoch ${e + 1}/${epochs}`);
}
console.log(`\n${parts.train.length} train / ${parts.valid.length} valid samples -> ${out}`);
