/**
 * `sts train`: one network (rough or fine) on a dataset, with the paper's hyper-parameters for its kind unless told
 * otherwise. Everything is checked (dataset files, sizes, flags) before the first step; the run folder resumes.
 */
import { join } from 'node:path';
import { initEngine } from '../../engine/backend.js';
import { withLoadCache } from '../../datasets/load-cache.js';
import { openDataset } from '../../datasets/open-dataset.js';
import type { FineCrops, Stage } from '../../train/sampler.js';
import { loadOrCreateSplit, splitSamples } from '../../datasets/split.js';
import { measureTrainingScale } from '../../datasets/training-scale.js';
import { type RoughInput, isotropicScale } from '../../types/training-scale.js';
import { decodeDataset, validateDataset } from '../../datasets/validate.js';
import { ArgumentError, StsError } from '../../errors.js';
import type { DropPolicy } from '../../geometry/boxes.js';
import type { ResizeMode } from '../../geometry/resize.js';
import { type ModelName, checkModelSpec } from '../../models/index.js';
import { datasetTrainingData } from '../../train/dataset-training-data.js';
import { paperHyperparameters } from '../../train/presets.js';
import { type TrainingDefaults, train } from '../../train/trainer.js';
import { formatSeconds, progressBar } from '../progress.js';

export interface TrainCommandOptions {
  readonly data: string;
  readonly model: ModelName;
  readonly size: number;
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
  /** Default semantic (the paper); `instances` trains the fine network to output object cores too. */
  readonly targets?: Targets;
}

export type Targets = 'semantic' | 'instances';
export const TARGETS: readonly Targets[] = ['semantic', 'instances'];

export async function runTrain(o: TrainCommandOptions, signal?: AbortSignal): Promise<void> {
  const bar = progressBar();
  const engine = await initEngine({ warn: (line) => bar.log(line) });
  bar.log(`engine: ${engine.backend}, ${engine.threads} threads, ${engine.malloc} malloc`);
  const instances = o.targets === 'instances';
  if (instances && o.stage !== 'fine') throw new ArgumentError('--targets', 'instances applies to the fine stage (the rough network finds where objects are, the fine one tells them apart); leave it out for --stage rough');
  const dataset = await openDataset(o.data, { cores: instances });
  const spec = { name: o.model, size: o.size, channels: dataset.channels, features: o.features, ...(instances ? { outputs: 2 } : {}) };
  checkModelSpec(spec);
  bar.log(`dataset ${dataset.root} (${dataset.layout}, ${dataset.samples.length} samples): checking files`);
  await validateDataset(dataset);
  const { split, created, path } = await loadOrCreateSplit(o.out, dataset, { seed: o.seed });
  const parts = splitSamples(split, dataset);
  bar.log(`${created ? 'made' : 'using'} split ${path}: ${parts.train.length} train / ${parts.valid.length} valid / ${parts.test.length} test`);
  if (parts.train.length === 0 || parts.valid.length === 0) {
    throw new StsError(`${dataset.root}: too few samples to train (${parts.train.length} train, ${parts.valid.length} valid)`);
  }

  const paper = paperHyperparameters(dataset.kind === 'generic' ? 'cells' : dataset.kind, o.stage);
  const hyper = { epochs: o.epochs ?? paper.epochs, batchSize: o.batch ?? paper.batchSize, learningRate: o.lr ?? paper.learningRate };
  if (hyper.batchSize > parts.train.length) {
    throw new StsError(`--batch ${hyper.batchSize} is larger than the ${parts.train.length} training samples; use a smaller --batch`);
  }
  bar.log(`${o.stage} ${o.model} at S = ${o.size}: ${hyper.epochs} epochs, batch ${hyper.batchSize}, lr ${hyper.learningRate}, seed ${o.seed}, ${o.defaults ?? 'pytorch'} defaults${o.stage === 'fine' ? `, ${o.fineCrops ?? 'reference'} crops` : ''}`);

  // Recorded so that `sts predict` can run the rough network on a large image at the scale it learned.
  const measured = await measureTrainingScale(parts.train, o.size);
  const fixedScale = o.roughInput === 'fixed-scale';
  if (fixedScale && o.stage !== 'rough') throw new ArgumentError('--rough-input', 'fixed-scale applies to the rough stage only; leave it out for --stage fine');
  if (fixedScale && !measured) throw new ArgumentError('--rough-input', `fixed-scale needs 2-D image files to measure the training scale from; ${dataset.root} holds volume slices`);
  const scale = measured && fixedScale ? isotropicScale(measured) : measured;
  if (fixedScale && scale) bar.log(`rough input: ${o.size} x ${o.size} windows of the images downscaled ${scale.factorX.toFixed(2)}x (the median training image over S)`);
  // Every file decoded once, fully, before the first step (into the cache the training reads from).
  const cached = withLoadCache(dataset);
  const decoded = await decodeDataset(cached, {
    onProgress: (done, total) => {
      if (done === 1) bar.start(total, 'decoding every image and mask once');
      bar.update(done);
    },
  });
  bar.stop();
  if (decoded.decoded > 0 && decoded.emptyMasks === decoded.decoded) {
    bar.log(`warning: every one of the ${decoded.decoded} masks of ${dataset.root} is empty: the networks will learn to find nothing; check the masks (0/1, 0/255, JPEG at 128, or label maps)`);
  } else if (decoded.emptyMasks > 0) {
    bar.log(`${decoded.emptyMasks} of ${decoded.decoded} masks have no foreground (kept: images without objects are training data too)`);
  }
  const data = datasetTrainingData(cached, parts, {
    stage: o.stage, size: o.size, resize: o.resize, dropPolicy: o.dropPolicy, fineCrops: o.fineCrops, ...(fixedScale && scale ? { roughScale: scale } : {}),
    ...(instances ? { cores: true } : {}),
  });
  const result = await train({
    model: spec,
    data,
    out: o.out,
    seed: o.seed,
    resume: o.resume,
    defaults: o.defaults,
    signal,
    log: (line) => bar.log(line),
    ...hyper,
    metadata: {
      dataset: { root: dataset.root, layout: dataset.layout, kind: dataset.kind }, stage: o.stage, resize: o.resize, dropPolicy: o.dropPolicy,
      ...(o.stage === 'fine' ? { fineCrops: o.fineCrops ?? 'reference' } : {}), ...(instances ? { targets: 'instances' } : {}),
      ...(scale ? { scale } : {}), ...(fixedScale ? { roughInput: o.roughInput } : {}),
    },
    onProgress: (p) => {
      if (p.done === 1) bar.start(p.total, `epoch ${p.epoch}/${p.epochs}`);
      bar.update(p.done, { loss: (p.loss ?? 0).toFixed(4) });
    },
    onEpoch: (e) => {
      bar.stop();
      bar.log(
        `epoch ${e.epoch}/${e.epochs}  loss ${e.loss.toFixed(4)}  val DSC ${e.valDsc.toFixed(4)}${e.best ? ' (best)' : ''}  ${formatSeconds(e.seconds)}`,
      );
    },
  });
  bar.stop();
  if (result.epochsRun === 0) bar.log(`${o.out} had already run all ${hyper.epochs} epochs`);
  bar.log(`best validation DSC ${result.bestDsc.toFixed(4)} at epoch ${result.bestEpoch}; model: ${join(o.out, 'best')}`);
}
