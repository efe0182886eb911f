/**
 * `sts evaluate`: a trained rough network (the baseline) and optionally a fine network on a split part of a
 * dataset, at the original resolution: per-image CSV, timings and the mean ± std table.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { ensureWritableFolder, writeAtomically } from '../../io/atomic-write.js';
import { join } from 'node:path';
import { openDataset } from '../../datasets/open-dataset.js';
import { validateDataset } from '../../datasets/validate.js';
import { checkSplitMatches, type Split, splitSamples } from '../../datasets/split.js';
import { initEngine } from '../../engine/backend.js';
import type { InferencePrecision } from '../../engine/torch/index.js';
import { ArgumentError, StsError } from '../../errors.js';
import { pairPassOfModels } from '../../types/training-scale.js';
import { type DropPolicy, describeWindows } from '../../geometry/boxes.js';
import { type EvaluationRow, evaluate } from '../../experiments/evaluate.js';
import { instancesTable, perImageCsv, tableA1, timingsCsv } from '../../experiments/report.js';
import { loadModelPair, pairSourceOfOptions } from '../../catalog/catalog.js';
import { type NetworkModel, openNetworkModel } from '../../catalog/network-model.js';
import type { Fallback } from '../../pipeline/segment-then-segment.js';
import { progressBar } from '../progress.js';
import { readJsonFile } from '../../io/json-file.js';
import { leakageMessage, splitsOfModels, trainingOverlap } from '../../experiments/leakage.js';

export interface EvaluateCommandOptions {
  /** A catalog pair by name, or the rough (and optionally the fine) model folder. */
  readonly model?: string;
  readonly rough?: string;
  readonly fine?: string;
  readonly data: string;
  /** Without a split, every image of the dataset is evaluated. */
  readonly split?: string;
  readonly part: 'train' | 'valid' | 'test';
  readonly out: string;
  readonly dropPolicy: DropPolicy;
  readonly fallback: Fallback;
  /** Crops per fine-network call (1: one at a time, as the reference). */
  readonly cropBatch: number;
  /** Rounds of crop growth (default 0). */
  readonly growCrops?: number;
  /** Number format of inference (else STS_INFERENCE_PRECISION, else float32). */
  readonly precision?: InferencePrecision;
  /** Refuse to score images of the models' own train or valid split (otherwise a warning names them). */
  readonly strict?: boolean;
}

export async function runEvaluate(o: EvaluateCommandOptions, signal?: AbortSignal): Promise<EvaluationRow[]> {
  const bar = progressBar();
  await ensureWritableFolder(o.out);
  const engine = await initEngine({ warn: (line) => bar.log(line), inferencePrecision: o.precision });
  // The baseline alone needs only a rough network; a pair (or a catalog name) gives both.
  let rough: NetworkModel;
  let fine: NetworkModel | undefined;
  let pairName: string | undefined;
  if (o.model !== undefined || o.fine !== undefined) {
    const pair = await loadModelPair(pairSourceOfOptions(o));
    [rough, fine] = [pair.rough, pair.fine];
    pairName = pair.entry?.name;
  } else {
    if (o.rough === undefined) throw new ArgumentError('--rough', 'give a rough model folder or .onnx file (and --fine), or a pretrained pair with --model <name>');
    rough = await openNetworkModel(o.rough);
  }
  const { size, channels } = rough;
  // Per-object truth, where the dataset has it, scores the objects too.
  const dataset = await openDataset(o.data, { channels: channels as 1 | 3, labels: true });
  // As before training: an image without its mask (or an unreadable file) is named, not silently left out of the mean.
  await validateDataset(dataset);
  let samples = dataset.samples;
  let what = `all ${samples.length} images`;
  if (o.split !== undefined) {
    const split = await readJsonFile<Split>(o.split, 'give the split.json of the training run');
    checkSplitMatches(split, dataset, o.split);
    samples = splitSamples(split, dataset)[o.part];
    if (samples.length === 0) throw new StsError(`${o.split}: the ${o.part} part is empty`);
    what = `${samples.length} ${o.part} images`;
  }
  // Images the models were trained or validated on say how they fit their data, not how they do on new images.
  const splits = await splitsOfModels(fine ? [rough.path, fine.path] : [rough.path], pairName);
  for (const overlap of trainingOverlap(samples, splits)) {
    if (o.strict) throw new StsError(`--strict: ${leakageMessage(overlap, samples.length, { strict: true })}`);
    bar.log(`warning: ${leakageMessage(overlap, samples.length)}`);
  }
  // A rough network trained on fixed-scale windows is run as sts predict runs it (tiled, at its scale).
  const pass = pairPassOfModels(rough.metadata, fine?.metadata);
  const fixedScale = pass.tileAbove === 0 ? pass.scale : undefined;
  const { maxCropSide } = pass;
  bar.log(`engine ${engine.backend} (${engine.malloc} malloc, ${engine.inferencePrecision} inference); evaluating ${what} of ${dataset.root} at S = ${size}${fixedScale ? `, the rough pass tiled at ${fixedScale.factorX.toFixed(2)} original pixels per input pixel (its training scale)` : ''}${maxCropSide !== undefined ? `, ${describeWindows(maxCropSide, size)} (as the fine network learned)` : ''}`);
  bar.start(samples.length, 'evaluate');
  const { rows } = await evaluate({
    dataset,
    samples,
    size,
    rough: rough.network(),
    fine: fine?.network({ batchSize: o.cropBatch }),
    dropPolicy: o.dropPolicy,
    fallback: o.fallback,
    growCrops: o.growCrops,
    ...(fixedScale ? { scale: fixedScale } : {}),
    ...(maxCropSide !== undefined ? { maxCropSide } : {}),
    signal,
    onImage: (done) => bar.update(done),
  });
  bar.stop();
  await writeEvaluation(o.out, rows);
  bar.log(tableA1(rows));
  if (instancesTable(rows)) bar.log(`objects:\n${instancesTable(rows)}`);
  bar.log(`wrote ${join(o.out, 'per_image.csv')}, timings.csv and summary.md`);
  return rows;
}

export async function writeEvaluation(out: string, rows: readonly EvaluationRow[]): Promise<void> {
  await mkdir(out, { recursive: true });
  const files: [string, string][] = [['per_image.csv', perImageCsv(rows)], ['timings.csv', timingsCsv(rows)], ['summary.md', `${[tableA1(rows), instancesTable(rows)].filter(Boolean).join('\n\n')}\n`]];
  for (const [name, text] of files) await writeAtomically(join(out, name), (tmp) => writeFile(tmp, text));
}
