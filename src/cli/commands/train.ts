/**
 * `sts train`: one network (rough or fine) on a dataset, with the paper's hyper-parameters for its kind unless told
 * otherwise. Everything is checked (dataset files, sizes, flags) before the first step; the run folder resumes.
 */
import { join } from 'node:path';
import { initEngine } from '../../engine/backend.js';
import { withLoadCache } from '../../datasets/load-cache.js';
import { openDataset } from '../../datasets/open-dataset.js';
import type { FineCrops, Stage } from '../../train/sampler.js';
import { SPLIT_FILE, type Split, checkSplitMatches, loadOrCreateSplit, splitSamples } from '../../datasets/split.js';
import { measureTrainingScale } from '../../datasets/training-scale.js';
import { type RoughInput, isotropicScale, maxCropOfMetadata, roughInputOfMetadata, scaleOfMetadata } from '../../types/training-scale.js';
import { decodeDataset, validateDataset } from '../../datasets/validate.js';
import { CORE_TARGETS, type CoreTarget, DEFAULT_CORE_DEPTH } from '../../instances/core-target.js';
import { GAP_WEIGHTS } from '../../instances/gap-weights.js';
import { ArgumentError, StsError } from '../../errors.js';
import { type DropPolicy, describeWindows } from '../../geometry/boxes.js';
import type { ResizeMode } from '../../geometry/resize.js';
import { type ModelName, checkModelSpec } from '../../models/index.js';
import { appearanceOf, balancedDraws } from '../../datasets/appearance.js';
import type { Raster } from '../../geometry/raster.js';
import { datasetTrainingData } from '../../train/dataset-training-data.js';
import { FINE_TUNING, fineTuningRepeat, paperHyperparameters } from '../../train/presets.js';
import { type EpochRecord, FLOW_LOSS_WEIGHT, type TrainOptions, type TrainingDefaults, train } from '../../train/trainer.js';
import { formatSeconds, progressBar } from '../progress.js';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type PretrainedWeights, copyWeights, openPretrainedWeights } from '../../catalog/pretrained-weights.js';
import type { Dataset } from '../../datasets/dataset.js';
import { readJsonFile } from '../../io/json-file.js';
import { writeAtomically } from '../../io/atomic-write.js';
import type { OnProgress } from '../../types/progress.js';

export interface TrainCommandOptions {
  readonly data: string;
  /** Default unet, or the --init model's. */
  readonly model?: ModelName;
  /** Default 64, or the --init model's. */
  readonly size?: number;
  readonly stage: Stage;
  readonly out: string;
  readonly epochs?: number;
  readonly batch?: number;
  readonly lr?: number;
  readonly seed: number;
  readonly resume?: boolean;
  readonly features?: number;
  readonly resize: ResizeMode;
  readonly dropPolicy: DropPolicy;
  readonly defaults?: TrainingDefaults;
  readonly fineCrops?: FineCrops;
  /** Default whole-image (the paper). */
  readonly roughInput?: RoughInput;
  /** Default semantic (the paper), or what the --init model outputs; `instances` trains the fine network to output object cores too. */
  readonly targets?: Targets;
  /** With instance targets: w0 of the cores' gap-weighted cross-entropy (0: soft Dice alone). Default `DEFAULT_GAP_WEIGHT`. */
  readonly gapWeight?: number;
  /** With instance targets: the share of each object's depth its core exceeds. Default `DEFAULT_CORE_DEPTH`. */
  readonly coreDepth?: number;
  /** With instance targets: what the core channel learns (src/instances/core-target.ts). Default binary. */
  readonly coreTarget?: CoreTarget;
  /** With flow targets: the flows' weight in the loss. Default `FLOW_LOSS_WEIGHT`. */
  readonly flowWeight?: number;
  /** Fine stage: boxes longer than this are learned as S x S windows at full resolution (recorded for inference). */
  readonly maxCrop?: number;
  /** Start from these weights (a catalog name, a pair folder or a model folder): fine-tuning, with its defaults. */
  readonly init?: string;
  /**
   * With --init: take only its architecture (and what it records of its input: rough scale, crop windows), fresh
   * seeded weights at `SCRATCH_LEARNING_RATE` unless --lr is given: the same training from scratch, for comparison.
   */
  readonly freshWeights?: boolean;
  /** With --init: the encoder's weights stay as they are for this many first epochs (trainer.ts); default 0. */
  readonly freezeEncoder?: number;
  /** Rough stage: S x S windows of the images downscaled by this factor (fixed-scale input at a chosen scale). */
  readonly roughScale?: number;
  /** Draws per image per epoch (default 1; with --init, enough for ~256 samples per epoch). */
  readonly repeat?: number;
  /** Stop after this many epochs without a better validation DSC (default: none; with --init, 6). */
  readonly patience?: number;
  /** A split.json to train on (copied into --out), instead of splitting the dataset afresh. */
  readonly split?: string;
  /** Rough stage with a fixed scale: each window's scale varied by 2^u, u in [-j, j] (train/sampler.ts); default 0. */
  readonly scaleJitter?: number;
  /** Colour augmentation amount (train/sampler.ts); default 0, as the reference. */
  readonly colorJitter?: number;
  /** H&E stain augmentation factor (train/stain-augment.ts); default 1, none. */
  readonly stainJitter?: number;
  /** Draw the rarer kinds of training image (fluorescence, brightfield, stained) more often (datasets/appearance.ts). */
  readonly balanceAppearance?: boolean;
}

/** Where a training's lines and progress go: a progress bar of its own (`sts train`), or a caller's (`sts finetune`). */
export interface TrainingUi {
  log(line: string): void;
  onProgress?: OnProgress;
  onEpoch?: (e: EpochRecord) => void;
}

/** A training checked and ready to run: what `train` takes, and what it will do, for a caller's progress bar. */
export interface PreparedTraining {
  readonly options: TrainOptions;
  readonly trainImages: number;
  readonly batchesPerEpoch: number;
  readonly init?: PretrainedWeights;
}

/** The learning rate of a training from fresh weights with fine-tuning's budget: the paper's for polyps (its cells rate, 5e-4, measured alike). */
export const SCRATCH_LEARNING_RATE = 1e-3;

export type Targets = 'semantic' | 'instances' | 'flows';
/**
 * Measured on the nuclei split's 67 validation images against soft Dice alone (the same run otherwise): AP@0.5
 * 0.671 -> 0.698, merged 21.1% -> 20.0% (docs/results/nuclei-instances/).
 */
export const DEFAULT_GAP_WEIGHT = 10;
export const TARGETS: readonly Targets[] = ['semantic', 'instances', 'flows'];
/** The fine network's output maps for each kind of target. */
const OUTPUTS: Record<Targets, number> = { semantic: 1, instances: 2, flows: 3 };

export async function runTrain(o: TrainCommandOptions, signal?: AbortSignal): Promise<void> {
  const bar = progressBar();
  const ui: TrainingUi = {
    log: (line) => bar.log(line),
    onProgress: (p) => {
      if (p.done === 1) bar.start(p.total, `epoch ${p.epoch}/${p.epochs}`);
      bar.update(p.done, { loss: (p.loss ?? 0).toFixed(4) });
    },
    onEpoch: (e) => {
      bar.stop();
      bar.log(`epoch ${e.epoch}/${e.epochs}  loss ${e.loss.toFixed(4)}  val DSC ${e.valDsc.toFixed(4)}${e.best ? ' (best)' : ''}  ${formatSeconds(e.seconds)}`);
    },
  };
  const engine = await initEngine({ warn: ui.log });
  ui.log(`engine: ${engine.backend}, ${engine.threads} threads, ${engine.malloc} malloc`);
  const prepared = await prepareTraining(o, ui, bar);
  try {
    const result = await train({ ...prepared.options, signal });
    bar.stop();
    if (result.epochsRun === 0 && !result.stoppedEarly) ui.log(`${o.out} had already run all ${prepared.options.epochs} epochs`);
    ui.log(`best validation DSC ${result.bestDsc.toFixed(4)} at epoch ${result.bestEpoch}; model: ${join(o.out, 'best')}`);
    result.model.dispose();
  } finally {
    bar.stop();
    prepared.init?.model.dispose();
  }
}

/**
 * Everything `sts train` checks and reads before the first step: the dataset, the split, the architecture (given,
 * or the --init model's), the hyper-parameters (the paper's, or fine-tuning's with --init), every file decoded once.
 */
export async function prepareTraining(o: TrainCommandOptions, ui: TrainingUi, bar?: ReturnType<typeof progressBar>): Promise<PreparedTraining> {
  const init = o.init !== undefined ? await openPretrainedWeights(o.init, o.stage) : undefined;
  try {
    return await prepareWith(o, ui, init, bar);
  } catch (error) {
    init?.model.dispose();
    throw error;
  }
}

async function prepareWith(o: TrainCommandOptions, ui: TrainingUi, init: PretrainedWeights | undefined, bar?: ReturnType<typeof progressBar>): Promise<PreparedTraining> {
  if (init) {
    for (const [flag, given, theirs] of [['--model', o.model, init.spec.name], ['--size', o.size, init.spec.size], ['--features', o.features, init.spec.features]] as const) {
      if (given !== undefined && given !== theirs) {
        throw new ArgumentError(flag, `${given} differs from the --init model's ${theirs ?? 'default'} (${init.path}); leave ${flag} out to fine-tune that network as it is built`);
      }
    }
  }
  const initOutputs = init?.spec.outputs ?? 1;
  const targets: Targets = o.targets ?? (init && initOutputs === 2 ? 'instances' : init && initOutputs === 3 ? 'flows' : 'semantic');
  const instances = targets === 'instances';
  const flows = targets === 'flows';
  if ((instances || flows) && o.stage !== 'fine') throw new ArgumentError('--targets', `${targets} applies to the fine stage (the rough network finds where objects are, the fine one tells them apart); leave it out for --stage rough`);
  if (init && OUTPUTS[targets] !== initOutputs) {
    throw new ArgumentError('--targets', `${targets} needs a network with ${OUTPUTS[targets]} output map${OUTPUTS[targets] > 1 ? 's' : ''}, and the --init model ${init.path} has ${initOutputs}: ${targets !== 'semantic' ? 'start from a pair that outputs them (sts models shows which do), or train --targets semantic' : 'leave --targets out to fine-tune it as it is'}`);
  }
  if (o.gapWeight !== undefined && o.gapWeight > 0 && !instances) throw new ArgumentError('--gap-weight', 'weighs the gaps between object cores, which only --targets instances learns; leave it out');
  const gapWeight = instances ? (o.gapWeight ?? DEFAULT_GAP_WEIGHT) : 0;
  const gapWeights = gapWeight > 0 ? { ...GAP_WEIGHTS, w0: gapWeight } : undefined;
  if (o.coreDepth !== undefined && !instances) throw new ArgumentError('--core-depth', 'shapes the object cores, which only --targets instances learns; leave it out');
  // Recorded only when not the default, so that earlier instance runs resume and compare as they were.
  const coreDepth = instances && o.coreDepth !== undefined && o.coreDepth !== DEFAULT_CORE_DEPTH ? o.coreDepth : undefined;
  if (o.maxCrop !== undefined && o.stage !== 'fine') throw new ArgumentError('--max-crop', 'sets how the fine stage cuts large boxes; leave it out for --stage rough');
  // A fine network that learned windows keeps learning them when fine-tuned, as the rough scale is inherited.
  const maxCrop = o.maxCrop ?? (init && o.stage === 'fine' ? maxCropOfMetadata(init.metadata) : undefined);
  if (o.coreTarget !== undefined && !instances) throw new ArgumentError('--core-target', 'says what the object cores learn, which only --targets instances trains; leave it out');
  if (o.coreTarget !== undefined && !CORE_TARGETS.includes(o.coreTarget)) throw new ArgumentError('--core-target', `must be one of ${CORE_TARGETS.join(', ')}, got '${String(o.coreTarget)}'`);
  if (o.coreTarget === 'depth' && coreDepth !== undefined) throw new ArgumentError('--core-depth', 'sets where a binary core ends; a --core-target depth network learns every depth, so leave --core-depth out');
  // Recorded only when not the default, as the core depth; a depth network fine-tuned keeps learning depths.
  const inherited = init && (init.metadata.sts as { coreTarget?: unknown } | undefined)?.coreTarget === 'depth' ? 'depth' : undefined;
  const coreTarget = instances && (o.coreTarget ?? inherited) === 'depth' ? ('depth' as const) : undefined;
  if (o.flowWeight !== undefined && !flows) throw new ArgumentError('--flow-weight', 'weighs the centre flows, which only --targets flows learns; leave it out');
  // Recorded only when not the default.
  const flowWeight = flows && o.flowWeight !== undefined && o.flowWeight !== FLOW_LOSS_WEIGHT ? o.flowWeight : undefined;
  const dataset = await openDataset(o.data, { cores: instances, ...(coreDepth !== undefined ? { coreDepth } : {}), ...(coreTarget ? { coreTarget } : {}), ...(flows ? { labels: true } : {}) });
  const spec = init
    ? init.spec
    : { name: o.model ?? 'unet', size: o.size ?? 64, channels: dataset.channels, features: o.features, ...(targets !== 'semantic' ? { outputs: OUTPUTS[targets] } : {}) };
  checkModelSpec(spec);
  if (init && init.spec.channels !== dataset.channels) {
    throw new ArgumentError('--init', `${init.path} takes ${init.spec.channels === 1 ? 'gray (1-channel)' : 'RGB (3-channel)'} images and ${dataset.root} holds ${dataset.channels === 1 ? 'gray' : 'RGB'} ones; start from a pair made for ${dataset.channels === 1 ? 'gray' : 'RGB'} images, or train without --init`);
  }
  ui.log(`dataset ${dataset.root} (${dataset.layout}, ${dataset.samples.length} samples): checking files`);
  await validateDataset(dataset);
  if (o.split !== undefined) await adoptSplitFile(o.split, o.out, dataset);
  const { split, created, path } = await loadOrCreateSplit(o.out, dataset, { seed: o.seed });
  const parts = splitSamples(split, dataset);
  ui.log(`${created ? 'made' : 'using'} split ${path}: ${parts.train.length} train / ${parts.valid.length} valid / ${parts.test.length} test`);
  if (parts.train.length === 0 || parts.valid.length === 0) {
    throw new StsError(`${dataset.root}: too few samples to train (${parts.train.length} train, ${parts.valid.length} valid); label more images, or give --split with at least one of each`);
  }

  const paper = paperHyperparameters(dataset.kind === 'generic' ? 'cells' : dataset.kind, o.stage);
  if (o.freshWeights && !init) throw new ArgumentError('--scratch', 'takes the architecture of the --init model; give one');
  if (o.freezeEncoder && (!init || o.freshWeights)) throw new ArgumentError('--freeze-encoder', 'keeps pretrained encoder weights still at first; give --init (and no --scratch), or leave it out');
  const fresh = init !== undefined && o.freshWeights === true;
  const stainJitter = o.stainJitter !== undefined && o.stainJitter > 1 ? o.stainJitter : undefined;
  if (stainJitter && dataset.channels !== 3) throw new ArgumentError('--stain-jitter', `is for RGB (H&E) images and ${dataset.root} holds gray ones; leave it out`);
  const defaults = init ? { ...FINE_TUNING, ...(fresh ? { learningRate: SCRATCH_LEARNING_RATE } : {}) } : { ...paper, patience: undefined };
  const repeat = o.repeat ?? (init ? fineTuningRepeat(parts.train.length) : 1);
  const hyper = { epochs: o.epochs ?? defaults.epochs, batchSize: o.batch ?? defaults.batchSize, learningRate: o.lr ?? defaults.learningRate };
  const patience = o.patience ?? defaults.patience;
  if (hyper.batchSize > parts.train.length * repeat) {
    throw new StsError(`--batch ${hyper.batchSize} is larger than the ${parts.train.length * repeat} training samples per epoch; use a smaller --batch${repeat === 1 ? ' or a --repeat above 1' : ''}`);
  }
  ui.log(
    `${o.stage} ${spec.name} at S = ${spec.size}${init ? (fresh ? `, fresh weights in the architecture of ${init.path}` : `, fine-tuned from ${init.path}`) : ''}: ${hyper.epochs} epochs${patience !== undefined ? ` (stopping after ${patience} without a better validation DSC)` : ''}, ` +
      `batch ${hyper.batchSize}, lr ${hyper.learningRate}${repeat > 1 ? `, each image drawn ${repeat} times per epoch` : ''}${o.freezeEncoder ? `, encoder frozen for the first ${o.freezeEncoder} epoch${o.freezeEncoder === 1 ? '' : 's'}` : ''}, seed ${o.seed}${o.colorJitter ? `, colour jitter ${o.colorJitter}` : ''}${stainJitter ? `, stain jitter ${stainJitter}` : ''}, ${o.defaults ?? 'pytorch'} defaults${o.stage === 'fine' ? `, ${o.fineCrops ?? 'reference'} crops` : ''}${maxCrop !== undefined ? `, ${describeWindows(maxCrop, spec.size)}` : ''}`,
  );

  // Recorded so that `sts predict` can run the rough network on a large image at the scale it learned.
  const measured = await measureTrainingScale(parts.train, spec.size);
  const inheritedInput = init && o.stage === 'rough' && o.roughInput === undefined && o.roughScale === undefined ? roughInputOfMetadata(init.metadata) : undefined;
  const fixedScale = o.roughInput === 'fixed-scale' || o.roughScale !== undefined || inheritedInput === 'fixed-scale';
  if (o.roughScale !== undefined && o.roughInput === 'whole-image') throw new ArgumentError('--rough-scale', 'sets the scale of fixed-scale windows; leave out --rough-input whole-image');
  if (fixedScale && o.stage !== 'rough') throw new ArgumentError(o.roughScale !== undefined ? '--rough-scale' : '--rough-input', 'fixed-scale applies to the rough stage only; leave it out for --stage fine');
  if (fixedScale && !measured) throw new ArgumentError('--rough-input', `fixed-scale needs 2-D image files to measure the training scale from; ${dataset.root} holds volume slices`);
  const inheritedScale = inheritedInput === 'fixed-scale' && init ? scaleOfMetadata(init.metadata) : undefined;
  const scale = !measured
    ? undefined
    : o.roughScale !== undefined
      ? { ...measured, factorX: o.roughScale, factorY: o.roughScale }
      : inheritedScale
        ? { ...measured, factorX: inheritedScale.factorX, factorY: inheritedScale.factorY }
        : fixedScale
          ? isotropicScale(measured)
          : measured;
  if (o.scaleJitter && !(fixedScale && scale)) throw new ArgumentError('--scale-jitter', 'varies the scale of fixed-scale rough windows; give --rough-scale (or --init a pair trained so) and --stage rough, or leave it out');
  if (fixedScale && scale) ui.log(`rough input: ${spec.size} x ${spec.size} windows of the images downscaled ${scale.factorX.toFixed(2)}x${o.roughScale !== undefined ? ' (--rough-scale)' : inheritedScale ? ' (as the --init model was trained)' : ' (the median training image over S)'}${o.scaleJitter ? `, each window's scale varied 2^+-${o.scaleJitter} (--scale-jitter)` : ''}`);
  // Every file decoded once, fully, before the first step (into the cache the training reads from).
  const cached = withLoadCache(dataset);
  const decoded = await decodeDataset(cached, {
    onProgress: (done, total) => {
      if (!bar) return;
      if (done === 1) bar.start(total, 'decoding every image and mask once');
      bar.update(done);
    },
  });
  bar?.stop();
  if (decoded.decoded > 0 && decoded.emptyMasks === decoded.decoded) {
    ui.log(`warning: every one of the ${decoded.decoded} masks of ${dataset.root} is empty: the networks will learn to find nothing; check the masks (0/1, 0/255, JPEG at 128, or label maps)`);
  } else if (decoded.emptyMasks > 0) {
    ui.log(`${decoded.emptyMasks} of ${decoded.decoded} masks have no foreground (kept: images without objects are training data too)`);
  }
  let draws: number[] | undefined;
  let balance: Record<string, { images: number; draws: number }> | undefined;
  if (o.balanceAppearance) {
    const kinds: string[] = [];
    for (const sample of parts.train) {
      const { image } = await cached.load(sample);
      if (!(image.data instanceof Uint8Array)) throw new ArgumentError('--balance-appearance', `tells kinds of 8-bit microscopy or endoscopy image apart by their colours; ${dataset.root} holds other images (CT slices): leave it out`);
      kinds.push(appearanceOf(image as Raster<Uint8Array>));
    }
    draws = balancedDraws(kinds);
    balance = {};
    kinds.forEach((k, i) => (balance![k] = { images: (balance![k]?.images ?? 0) + 1, draws: draws![i] }));
    ui.log(`balancing the kinds of training image (--balance-appearance): ${Object.entries(balance).map(([k, b]) => `${k} ${b.images} x ${b.draws}`).join(', ')} per epoch`);
  }
  const data = datasetTrainingData(cached, parts, {
    stage: o.stage, size: spec.size, resize: o.resize, dropPolicy: o.dropPolicy, fineCrops: o.fineCrops, ...(fixedScale && scale ? { roughScale: scale } : {}),
    ...(instances ? { cores: true } : {}), ...(flows ? { flows: true } : {}), ...(coreTarget ? { coreTarget } : {}), ...(maxCrop !== undefined ? { maxCrop } : {}), repeat, ...(o.colorJitter ? { colorJitter: o.colorJitter } : {}), ...(stainJitter ? { stainJitter } : {}),
    ...(o.scaleJitter ? { scaleJitter: o.scaleJitter } : {}),
    ...(draws ? { draws } : {}),
  });
  const options: TrainOptions = {
    model: spec,
    data,
    out: o.out,
    seed: o.seed,
    resume: o.resume,
    defaults: o.defaults,
    log: ui.log,
    ...hyper,
    ...(patience !== undefined ? { patience } : {}),
    ...(gapWeights ? { gapWeights } : {}),
    ...(coreTarget ? { coreTarget } : {}),
    ...(flowWeight !== undefined ? { flowWeight } : {}),
    ...(o.freezeEncoder ? { freezeEncoderEpochs: o.freezeEncoder } : {}),
    ...(init && !fresh ? { initialWeights: (model: tfl.LayersModel) => copyWeights(init.model, model, init.path) } : {}),
    metadata: {
      dataset: { root: dataset.root, layout: dataset.layout, kind: dataset.kind }, stage: o.stage, resize: o.resize, dropPolicy: o.dropPolicy,
      ...(o.stage === 'fine' ? { fineCrops: o.fineCrops ?? 'reference' } : {}), ...(targets !== 'semantic' ? { targets } : {}),
      ...(gapWeights ? { gapWeights } : {}), ...(coreDepth !== undefined ? { coreDepth } : {}), ...(coreTarget ? { coreTarget } : {}), ...(flowWeight !== undefined ? { flowWeight } : {}), ...(maxCrop !== undefined ? { maxCrop } : {}), ...(scale ? { scale } : {}), ...(fixedScale ? { roughInput: 'fixed-scale' } : {}),
      ...(init ? (fresh ? { scratch: { architectureOf: init.source } } : { init: { source: init.source, path: init.path } }) : {}), ...(repeat > 1 ? { repeat } : {}), ...(patience !== undefined ? { patience } : {}), ...(o.colorJitter ? { colorJitter: o.colorJitter } : {}), ...(stainJitter ? { stainJitter } : {}),
      ...(o.scaleJitter ? { scaleJitter: o.scaleJitter } : {}), ...(o.freezeEncoder ? { freezeEncoder: o.freezeEncoder } : {}), ...(balance ? { balanceAppearance: balance } : {}),
    },
    onProgress: ui.onProgress,
    onEpoch: ui.onEpoch,
  };
  return { options, trainImages: parts.train.length, batchesPerEpoch: data.batchesPerEpoch(hyper.batchSize), ...(init ? { init } : {}) };
}

/** Puts the split file a user gave into the run folder, where training reads it; a different split there is refused. */
async function adoptSplitFile(file: string, out: string, dataset: Dataset): Promise<void> {
  const split = await readJsonFile<Split>(file, 'give a split.json written by sts train or sts finetune');
  checkSplitMatches(split, dataset, file);
  const target = join(out, SPLIT_FILE);
  const text = `${JSON.stringify(split, null, 1)}\n`;
  const existing = await readFile(target, 'utf8').catch(() => undefined);
  if (existing !== undefined) {
    if (JSON.stringify(JSON.parse(existing)) !== JSON.stringify(split)) {
      throw new ArgumentError('--split', `${out} already trains on another split (${target}); give a new --out, or leave --split out to continue with the one there`);
    }
    return;
  }
  await mkdir(out, { recursive: true });
  await writeAtomically(target, (tmp) => writeFile(tmp, text));
}
