/**
 * `sts finetune`: a pretrained pair adapted to a user's own labelled images in one command, as Cellpose 2.0's
 * human-in-the-loop users expect: the images split (a held-out part the new pair never sees), the rough and then the
 * fine network fine-tuned from the pair's weights, both pairs scored on the held-out part, and a pair folder written
 * that every command takes (`--model <folder>`, `loadModelPair`, the page), with a model card of what was done.
 * The pair folder appears complete or not at all; the trainings live beside it (`<out>.training/`) and resume.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { type ModelPair, loadModelPair } from '../../catalog/catalog.js';
import { initEngine } from '../../engine/backend.js';
import { compactModelFolder } from '../../engine/compact-weights.js';
import { openDataset } from '../../datasets/open-dataset.js';
import { SPLIT_FILE, type Split, checkSplitMatches, splitSamples } from '../../datasets/split.js';
import { ArgumentError, StsError } from '../../errors.js';
import { type EvaluationRow, evaluate } from '../../experiments/evaluate.js';
import { instancesTable, tableA1 } from '../../experiments/report.js';
import { writeAtomically, writeFolderAtomically } from '../../io/atomic-write.js';
import { readJsonFile } from '../../io/json-file.js';
import { seededRng, shuffled } from '../../random.js';
import { train, type TrainResult } from '../../train/trainer.js';
import { pairPassOfModels } from '../../types/training-scale.js';
import { formatSeconds, progressBar } from '../progress.js';
import { type TrainCommandOptions, prepareTraining } from './train.js';
import { writeEvaluation } from './evaluate.js';

export interface FinetuneCommandOptions {
  /** The pair to start from: a catalog name or a pair folder. */
  readonly model: string;
  readonly data: string;
  /** The new pair's folder. */
  readonly out: string;
  /** A split.json to use instead of splitting --data afresh. */
  readonly split?: string;
  /** Share of the images held out for the before/after table (default 0.2). */
  readonly test?: number;
  readonly epochs?: number;
  readonly batch?: number;
  readonly lr?: number;
  readonly patience?: number;
  readonly repeat?: number;
  readonly roughScale?: number;
  readonly colorJitter?: number;
  /** H&E stain augmentation factor (train's --stain-jitter). */
  readonly stainJitter?: number;
  /** The rough network's windows at scales varied by 2^+-this (train's --scale-jitter). */
  readonly scaleJitter?: number;
  /** Both networks keep their encoder still for this many first epochs (train's --freeze-encoder). */
  readonly freezeEncoder?: number;
  /** The fine network learns boxes longer than this as S x S windows at full resolution (default: as the pair's). */
  readonly maxCrop?: number;
  readonly seed: number;
  readonly resume?: boolean;
  /**
   * Train the pair's architecture from fresh weights instead (same split, epochs, samples and pipeline): the
   * comparison that shows what the pretrained weights are worth. Default lr then 1e-3.
   */
  readonly scratch?: boolean;
}

/** At least one image to train on, one to validate on (early stopping) and one held out for the table. */
export const MIN_FINETUNE_IMAGES = 3;

/**
 * A split for fine-tuning on `ids`: `test` of them held out (at least one), a fifth of the rest for validation (at
 * least one), the others to train on. Seeded, so that the same folder and seed give the same split.
 */
export function finetuneSplit(ids: readonly string[], { test = 0.2, seed = 42, root = '', layout = '' } = {}): Split {
  if (ids.length < MIN_FINETUNE_IMAGES) {
    throw new StsError(
      `${root || 'the dataset'} holds ${ids.length} labelled image${ids.length === 1 ? '' : 's'}; fine-tuning needs at least ${MIN_FINETUNE_IMAGES} (one to train on, one to stop early on, one held out to show the result): label more images, or give --split with your own train / valid / test parts`,
    );
  }
  if (!(test > 0 && test < 1)) throw new ArgumentError('--test', `must be a share between 0 and 1, got ${test}`);
  const order = shuffled([...ids].sort(), seededRng(seed));
  const nTest = Math.min(order.length - 2, Math.max(1, Math.round(order.length * test)));
  const rest = order.length - nTest;
  const nValid = Math.min(rest - 1, Math.max(1, Math.round(rest * 0.2)));
  return {
    version: 1,
    seed,
    policy: { ratios: [(rest - nValid) / order.length, nValid / order.length, nTest / order.length], by: 'sample' },
    root,
    layout,
    train: order.slice(nTest + nValid).sort(),
    valid: order.slice(nTest, nTest + nValid).sort(),
    test: order.slice(0, nTest).sort(),
  } as Split;
}

export async function runFinetune(o: FinetuneCommandOptions, signal?: AbortSignal): Promise<void> {
  const started = performance.now();
  const bar = progressBar();
  const engine = await initEngine({ warn: (line) => bar.log(line) });
  const work = `${resolve(o.out)}.training`;
  if (basename(resolve(o.out)) === '') throw new ArgumentError('--out', 'give a folder for the new pair');

  // The source pair, checked first: a misfit pair or an unknown name is named before any image is read.
  const source = await loadModelPair(o.model);
  source.rough.dispose();
  source.fine.dispose();
  const dataset = await openDataset(o.data, { channels: source.channels, labels: true });
  // A rerun continues with the split it started with, and only when asked to (--resume): a new --test, seed or
  // --split would mix the parts.
  const savedSplit = join(work, SPLIT_FILE);
  const begun = await readFile(savedSplit).then(() => true, () => false);
  if (begun && !o.resume) throw new ArgumentError('--out', `${work} holds an earlier fine-tuning of ${o.out}: continue it with --resume, or remove it (or give another --out) to start over`);
  const splitFile = begun ? savedSplit : o.split;
  let split: Split;
  if (splitFile !== undefined) {
    split = await readJsonFile<Split>(splitFile, 'give a split.json written by sts train or sts finetune');
    checkSplitMatches(split, dataset, splitFile);
    if (begun && o.split !== undefined && JSON.stringify(await readJsonFile(o.split, 'give a split.json')) !== JSON.stringify(split)) {
      throw new ArgumentError('--split', `${o.out} was fine-tuned on another split (${savedSplit}); leave --split out to resume, or give another --out`);
    }
  } else {
    split = finetuneSplit(dataset.samples.map((s) => s.id), { test: o.test, seed: o.seed, root: dataset.root, layout: dataset.layout });
  }
  const parts = splitSamples(split, dataset);
  if (parts.train.length === 0 || parts.valid.length === 0 || parts.test.length === 0) {
    throw new StsError(`${o.split ?? dataset.root}: fine-tuning needs images in each of train, valid and test (${parts.train.length} / ${parts.valid.length} / ${parts.test.length})`);
  }
  await mkdir(work, { recursive: true });
  const splitPath = savedSplit;
  await writeAtomically(splitPath, (tmp) => writeFile(tmp, `${JSON.stringify(split, null, 1)}\n`));
  bar.log(`engine: ${engine.backend}, ${engine.threads} threads; fine-tuning ${o.model} on ${dataset.root}: ${parts.train.length} images to train on, ${parts.valid.length} to stop early on, ${parts.test.length} held out (${splitPath})`);

  // Both stages are prepared (every file checked and decoded) before the first step, so one bar covers the run.
  const common = { data: o.data, split: splitPath, init: o.model, ...(o.scratch ? { freshWeights: true } : {}), seed: o.seed, resume: o.resume, resize: 'nearest', dropPolicy: 'reference', epochs: o.epochs, batch: o.batch, lr: o.lr, patience: o.patience, repeat: o.repeat, colorJitter: o.colorJitter, stainJitter: o.stainJitter, freezeEncoder: o.freezeEncoder } as const;
  const lines: string[] = [];
  const quiet = { log: (line: string) => lines.push(line) };
  const stages: { stage: 'rough' | 'fine'; options: TrainCommandOptions }[] = [
    { stage: 'rough', options: { ...common, stage: 'rough', out: join(work, 'rough'), ...(o.roughScale !== undefined ? { roughScale: o.roughScale } : {}), ...(o.scaleJitter ? { scaleJitter: o.scaleJitter } : {}) } },
    { stage: 'fine', options: { ...common, stage: 'fine', out: join(work, 'fine'), ...(o.maxCrop !== undefined ? { maxCrop: o.maxCrop } : {}) } },
  ];
  const prepared = [];
  for (const s of stages) {
    // With --resume each network continues from its checkpoint; one that never started (a run stopped during the
    // rough network) starts now.
    prepared.push({ ...s, p: await prepareTraining(s.options, quiet) });
  }
  for (const line of lines.filter((l) => /fine-tuned from|fresh weights|rough input|masks have no/.test(l))) bar.log(line);
  const total = prepared.reduce((n, { p }) => n + p.options.epochs * p.batchesPerEpoch, 0);
  let offset = 0;
  const results: { stage: 'rough' | 'fine'; result: TrainResult; seconds: number }[] = [];
  bar.start(total, 'fine-tuning');
  try {
    for (const { stage, p } of prepared) {
      const t = performance.now();
      const base = offset;
      const result = await train({
        ...p.options,
        signal,
        log: (line) => bar.log(`${stage}: ${line}`),
        onProgress: (q) => bar.update(base + ((q.epoch ?? 1) - 1) * q.total + q.done, { stage, epoch: `${q.epoch}/${q.epochs}` }),
        onEpoch: (e) => bar.log(`${stage} epoch ${e.epoch}/${e.epochs}  loss ${e.loss.toFixed(4)}  val DSC ${e.valDsc.toFixed(4)}${e.best ? ' (best)' : ''}  ${formatSeconds(e.seconds)}`),
      });
      result.model.dispose();
      offset += p.options.epochs * p.batchesPerEpoch;
      bar.update(offset);
      results.push({ stage, result, seconds: (performance.now() - t) / 1000 });
    }
  } finally {
    bar.stop();
    for (const { p } of prepared) p.init?.model.dispose();
  }
  const trainSeconds = (performance.now() - started) / 1000;
  bar.log(`trained in ${formatSeconds(trainSeconds)}; scoring both pairs on the ${parts.test.length} held-out images`);

  // Before and after on the held-out part, each pair as sts predict runs it.
  const tuned = { rough: join(work, 'rough', 'best'), fine: join(work, 'fine', 'best') };
  const score = async (pair: ModelPair, what: string): Promise<EvaluationRow[]> => {
    const pass = pairPassOfModels(pair.rough.metadata, pair.fine.metadata);
    bar.start(parts.test.length, what);
    try {
      const { rows } = await evaluate({
        dataset, samples: parts.test, size: pair.size, rough: pair.rough.network(), fine: pair.fine.network(),
        ...(pass.tileAbove === 0 && pass.scale ? { scale: pass.scale } : {}), maxCropSide: pass.maxCropSide, signal, onImage: (done) => bar.update(done),
      });
      return rows;
    } finally {
      bar.stop();
      pair.rough.dispose();
      pair.fine.dispose();
    }
  };
  const before = await score(await loadModelPair(o.model), `${o.model} as it is`);
  const after = await score(await loadModelPair(tuned), 'fine-tuned');
  await writeEvaluation(join(work, 'held-out', 'before'), before);
  await writeEvaluation(join(work, 'held-out', 'after'), after);

  const card = modelCard({ o, dataset: dataset.root, split, results, before, after, trainSeconds, engine: `${engine.backend}, ${engine.threads} threads` });
  await writeFolderAtomically(o.out, async (tmp) => {
    for (const stage of ['rough', 'fine'] as const) await compactModelFolder(tuned[stage], join(tmp, stage), 'float16');
    await copyFile(splitPath, join(tmp, SPLIT_FILE));
    await writeFile(join(tmp, 'README.md'), card);
  });
  const dsc = (rows: EvaluationRow[]) => mean(rows.filter((r) => r.method === 'sts').map((r) => r.dsc));
  bar.log(`held-out StS DSC ${dsc(before).toFixed(3)} -> ${dsc(after).toFixed(3)}; the pair: ${o.out} (use it as --model ${o.out.includes('/') ? o.out : `./${o.out}`}); its card: ${join(o.out, 'README.md')}; trainings and scores: ${work}`);
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);

function modelCard(c: {
  o: FinetuneCommandOptions;
  dataset: string;
  split: Split;
  results: { stage: string; result: TrainResult; seconds: number }[];
  before: EvaluationRow[];
  after: EvaluationRow[];
  trainSeconds: number;
  engine: string;
}): string {
  const { o, split } = c;
  const table = (rows: EvaluationRow[]) => [tableA1(rows), instancesTable(rows)].filter(Boolean).join('\n\n');
  return `# ${basename(resolve(o.out))}: ${o.scratch ? `the architecture of ${o.model} trained from scratch on` : `${o.model} fine-tuned on`} ${c.dataset}

Written by \`sts finetune\` on ${new Date().toISOString().slice(0, 10)} (${c.engine}). Use it wherever a pair is taken:
\`sts predict --model ${o.out.includes('/') ? o.out : `./${o.out}`} <image>\`, \`loadModelPair('${o.out}')\`, or its \`rough/\` and \`fine/\` folders.

## Data and split
- ${o.scratch ? `Trained from scratch (\`--scratch\`): the architecture of the pair \`${o.model}\`, fresh weights` : `Started from: the pair \`${o.model}\` (its own card says what it was trained on, and its licence applies too)`}.
- ${o.scratch ? 'Trained' : 'Fine-tuned'} on: \`${c.dataset}\` (the user's data; its licence is the user's).
- Split (\`split.json\`, seed ${split.seed}): ${split.train.length} images trained on, ${split.valid.length} used to stop early, ${split.test.length} held out and used only for the table below${split.unused?.length ? `; ${split.unused.length} images of the folder not used` : ''}.
  - held out: ${split.test.join(', ')}

## Training
${c.results.map(({ stage, result, seconds }) => `- ${stage}: ${result.resumedFrom + result.epochsRun} epoch${result.resumedFrom + result.epochsRun === 1 ? '' : 's'}${result.stoppedEarly ? ' (stopped early)' : ''}, best validation DSC ${result.bestDsc.toFixed(3)} at epoch ${result.bestEpoch}, ${formatSeconds(seconds)}`).join('\n')}
- both stages: ${formatSeconds(c.trainSeconds)} (with checking and decoding the images)${o.roughScale !== undefined ? `\n- rough input: windows of the images downscaled ${o.roughScale}x (--rough-scale)` : ''}
- command: \`sts finetune --model ${o.model} --data ${o.data} --out ${o.out}${o.scratch ? ' --scratch' : ''}${o.split !== undefined ? ` --split ${o.split}` : ''}${o.roughScale !== undefined ? ` --rough-scale ${o.roughScale}` : ''}${o.maxCrop !== undefined ? ` --max-crop ${o.maxCrop}` : ''}${o.colorJitter ? ` --color-jitter ${o.colorJitter}` : ''}${o.stainJitter && o.stainJitter > 1 ? ` --stain-jitter ${o.stainJitter}` : ''}${o.scaleJitter ? ` --scale-jitter ${o.scaleJitter}` : ''}${o.freezeEncoder ? ` --freeze-encoder ${o.freezeEncoder}` : ''}${o.epochs !== undefined ? ` --epochs ${o.epochs}` : ''}\`

## On the ${split.test.length} held-out images
Before (\`${o.model}\` as it is):

${table(c.before)}

After (this pair):

${table(c.after)}

Few held-out images give wide error bars: read these as a check that fine-tuning helped on this data, not as a
benchmark. Weights are stored as float16.
`;
}
