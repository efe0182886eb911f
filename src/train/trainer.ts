/**
 * The training loop the field knows: Adam on batch soft Dice, one pass over the training batches per epoch, the
 * validation DSC after each epoch, the best model kept, and everything needed to resume after a crash or Ctrl-C
 * saved atomically at the end of every epoch.
 *
 * Run folder:
 *   config.json   what is being trained (checked on resume, so a resumed run cannot silently change)
 *   last/         model + optimizer state + state.json after the last completed epoch (one atomic folder)
 *   best/         the model of the epoch with the best validation DSC: the one to use
 *   log.jsonl     one JSON line per epoch
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadModel, weightBytes, saveModel } from '../engine/model-files.js';
import { ArgumentError, StsError } from '../errors.js';
import { confusion, metricsFromConfusion } from '../metrics/metrics.js';
import { setBatchNormVariance } from '../models/batch-norm.js';
import { type ModelSpec, checkModelSpec, createModel, isEncoderLayer } from '../models/index.js';
import { FusedAdamOptimizer } from './adam.js';
import type { Batch, TrainingData } from './batch.js';
import { channelwiseSoftDiceLoss, softDiceLoss, weightedCrossEntropy } from './loss.js';
import { type GapWeightOptions, gapWeights } from '../instances/gap-weights.js';
import type { CoreTarget } from '../instances/core-target.js';
import type { Hyperparameters } from './presets.js';
import { adoptFolder, isOurFolder, recoverFolder, writeAtomically } from '../io/atomic-write.js';
import { readJsonFile } from '../io/json-file.js';
import { lockRunFolder } from './run-lock.js';
import type { OnProgress } from '../types/progress.js';

export interface TrainOptions extends Hyperparameters {
  readonly model: ModelSpec;
  readonly data: TrainingData;
  /** The run folder. */
  readonly out: string;
  readonly seed: number;
  /** Continue from `out/last` if it exists (otherwise start); without it an existing run folder is refused. */
  readonly resume?: boolean;
  /**
   * Whose defaults training follows where the frameworks differ: `pytorch` (the reference's; the default) initialises
   * layers as PyTorch does, tracks batch norm's unbiased running variance and uses Adam's epsilon 1e-8; `tfjs` (this
   * project before 2026-12) He/Glorot-uniform weights with zero biases, the biased running variance, epsilon 1e-7.
   * A resumed run keeps what it started with (`tfjs` for runs that predate the setting).
   */
  readonly defaults?: TrainingDefaults;
  /**
   * Fills a freshly built network with pretrained weights before the first epoch (fine-tuning); a resumed run
   * continues from its own checkpoint instead.
   */
  readonly initialWeights?: (model: tfl.LayersModel) => void;
  /**
   * Early stopping: end the run once this many epochs in a row have not beaten the best validation DSC (the best
   * model is kept). Default: every epoch runs.
   */
  readonly patience?: number;
  /**
   * An instance network's cores also learn by a cross-entropy weighted towards the gaps between neighbouring cores
   * (src/instances/gap-weights.ts); absent: soft Dice alone, as the first instance pair was trained.
   */
  readonly gapWeights?: GapWeightOptions;
  /**
   * What an instance network's core channel learns (src/instances/core-target.ts). `binary` (default): soft Dice on
   * both channels, plus the gap-weighted cross-entropy on the cores. `depth`: soft Dice on the foreground and the
   * (gap-weighted) cross-entropy alone on the depth, which a soft Dice would push towards 0/1 instead of the depth.
   */
  readonly coreTarget?: CoreTarget;
  /** A flow network's weight of the flows' squared error beside the foreground's soft Dice. Default `FLOW_LOSS_WEIGHT`. */
  readonly flowWeight?: number;
  /**
   * Fine-tuning: the encoder's weights (models/index.ts `isEncoderLayer`) stay as they are for this many first epochs
   * while the rest learns, then everything trains. Its batch norm statistics still follow the new images. Default 0.
   */
  readonly freezeEncoderEpochs?: number;
  /** Anything else to record in config.json and in the models' metadata (dataset, stage, scale, ...). */
  readonly metadata?: Record<string, unknown>;
  readonly signal?: AbortSignal;
  /** Notices for the user (a recovered checkpoint, a repaired log). */
  readonly log?: (line: string) => void;
  /** After every training batch: stage `train`, `done` of `total` batches of epoch `epoch` of `epochs`, mean loss so far. */
  readonly onProgress?: OnProgress;
  readonly onEpoch?: (e: EpochRecord) => void;
}

export type TrainingDefaults = 'pytorch' | 'tfjs';
export const TRAINING_DEFAULTS: readonly TrainingDefaults[] = ['pytorch', 'tfjs'];

export interface EpochRecord {
  /** 1-based. */
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
  readonly valDsc: number;
  readonly best: boolean;
  readonly bestDsc: number;
  readonly bestEpoch: number;
  readonly seconds: number;
}

export interface TrainResult {
  readonly bestDsc: number;
  readonly bestEpoch: number;
  readonly epochsRun: number;
  /** The run ended before its last epoch by `patience`. */
  readonly stoppedEarly: boolean;
  readonly resumedFrom: number;
  readonly model: tfl.LayersModel;
}

interface RunState {
  readonly epoch: number;
  readonly bestDsc: number;
  readonly bestEpoch: number;
  /** The epoch's log line, saved with the checkpoint so that the log can always be completed from it. */
  readonly record?: Record<string, unknown>;
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  checkOptions(o);
  await mkdir(o.out, { recursive: true });
  const release = await lockRunFolder(o.out);
  try {
    return await trainLocked(o);
  } finally {
    await release();
  }
}

async function trainLocked(o: TrainOptions): Promise<TrainResult> {
  // Checkpoints of runs begun before sts marked its folders are marked now: this process holds the run's lock and
  // the folder is a run (config.json), so they are ours to replace.
  if (existsSync(join(o.out, 'config.json'))) {
    for (const folder of ['last', 'best']) {
      const dir = join(o.out, folder);
      if (existsSync(join(dir, 'model.json')) && !(await isOurFolder(dir))) await adoptFolder(dir);
    }
  }
  // A checkpoint replacement that a crash interrupted is finished (or rolled back) before anything reads the run.
  for (const folder of ['last', 'best']) for (const line of await recoverFolder(join(o.out, folder))) o.log?.(`${o.out}: ${line}`);
  const config = {
    model: o.model,
    defaults: o.defaults ?? 'pytorch',
    data: { size: o.data.size, channels: o.data.channels },
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    seed: o.seed,
    ...o.metadata,
  };
  const resumed = await resumeState(o, config);
  const defaults = resumed?.defaults ?? config.defaults;
  let model = resumed?.model;
  if (!model) {
    model = createModel(o.model, { seed: o.seed, init: defaults === 'pytorch' ? 'pytorch' : 'tfjs' });
    o.initialWeights?.(model);
  }
  const optimizer = trainingArithmetic(model, defaults, o.learningRate);
  if (resumed) await restoreOptimizer(optimizer, resumed.optimizer);
  let state: RunState = resumed?.state ?? { epoch: 0, bestDsc: -1, bestEpoch: 0 };
  if (resumed) await reconcileLog(o, state);
  if (!resumed) await writeFile(join(o.out, 'config.json'), JSON.stringify({ ...config, epochs: o.epochs }, null, 2));
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const freezeEpochs = o.freezeEncoderEpochs ?? 0;
  const encoder = freezeEpochs > 0 ? new Set(model.layers.filter((l) => isEncoderLayer(o.model.name, l.name)).flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable))) : undefined;
  const metadata = { sts: { ...config } };
  const resumedFrom = state.epoch;

  let stoppedEarly = false;
  for (let epoch = state.epoch; epoch < o.epochs; epoch++) {
    if (o.patience !== undefined && state.epoch - state.bestEpoch >= o.patience) {
      stoppedEarly = true;
      o.log?.(`stopped early after epoch ${state.epoch}: no better validation DSC for ${o.patience} epochs (best ${state.bestDsc.toFixed(4)} at epoch ${state.bestEpoch})`);
      break;
    }
    const started = performance.now();
    const batches = o.data.batchesPerEpoch(o.batchSize);
    let lossSum = 0;
    let seen = 0;
    let index = 0;
    for await (const batch of o.data.trainBatches(epoch, o.batchSize, o.seed)) {
      o.signal?.throwIfAborted();
      const loss = trainStep(model, optimizer, variables, batch, o.data, {
        gaps: o.gapWeights,
        frozen: epoch < freezeEpochs ? encoder : undefined,
        coreTarget: o.coreTarget,
        flowWeight: o.flowWeight,
      });
      if (!Number.isFinite(loss)) {
        throw new StsError(
          `training diverged in epoch ${epoch + 1} (the loss became ${loss}); lower --lr (now ${o.learningRate}), e.g. to ${o.learningRate / 10}, and train again in a new --out`,
        );
      }
      lossSum += loss * batch.count;
      seen += batch.count;
      o.onProgress?.({ stage: 'train', epoch: epoch + 1, epochs: o.epochs, done: ++index, total: batches, loss: lossSum / seen });
      // A training step blocks the event loop; yield so that Ctrl-C and progress output get through.
      await new Promise(setImmediate);
    }
    if (seen === 0) throw new StsError('the training set gave no batches: it is empty or smaller than one batch');
    o.signal?.throwIfAborted();
    const valDsc = await validationDsc(model, o.data, o.batchSize);
    if (Number.isNaN(valDsc)) {
      throw new StsError(
        `training diverged in epoch ${epoch + 1} (the network's outputs became NaN); lower --lr (now ${o.learningRate}), e.g. to ${o.learningRate / 10}, and train again in a new --out`,
      );
    }
    const best = valDsc > state.bestDsc;
    const bestDsc = best ? valDsc : state.bestDsc;
    const bestEpoch = best ? epoch + 1 : state.bestEpoch;
    const record: EpochRecord = {
      epoch: epoch + 1,
      epochs: o.epochs,
      loss: lossSum / seen,
      valDsc,
      best,
      bestDsc,
      bestEpoch,
      seconds: (performance.now() - started) / 1000,
    };
    const line = { time: new Date().toISOString(), ...record };
    state = { epoch: epoch + 1, bestDsc, bestEpoch, record: line };
    if (best) await saveModel(join(o.out, 'best'), model, { ...metadata, epoch: epoch + 1, valDsc });
    await saveCheckpoint(o.out, model, optimizer, state, metadata);
    await appendFile(join(o.out, 'log.jsonl'), JSON.stringify(line) + '\n');
    o.onEpoch?.(record);
  }
  return { bestDsc: state.bestDsc, bestEpoch: state.bestEpoch, epochsRun: state.epoch - resumedFrom, resumedFrom, stoppedEarly, model };
}

/**
 * The log as the checkpoint says it is: one line per epoch up to the checkpoint's, none after it (lines of epochs
 * that a crash lost are run again), the checkpoint's own line added if the crash came between the two writes.
 */
async function reconcileLog(o: TrainOptions, state: RunState): Promise<void> {
  const path = join(o.out, 'log.jsonl');
  const text = await readFile(path, 'utf8').catch(() => '');
  const kept = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let epoch: unknown;
    try {
      epoch = (JSON.parse(line) as { epoch?: unknown }).epoch;
    } catch {
      continue; // a line cut by a crash
    }
    if (typeof epoch === 'number' && epoch <= state.epoch && !kept.has(epoch)) kept.set(epoch, line);
  }
  if (!kept.has(state.epoch) && state.record) kept.set(state.epoch, JSON.stringify(state.record));
  const repaired = [...kept.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l).join('\n') + (kept.size ? '\n' : '');
  if (repaired === text) return;
  await writeAtomically(path, (tmp) => writeFile(tmp, repaired));
  o.log?.(`${path}: repaired to one line per epoch up to the checkpoint's epoch ${state.epoch}`);
}

function checkOptions(o: TrainOptions): void {
  checkModelSpec(o.model);
  if (o.model.size !== o.data.size) throw new ArgumentError('--size', `model size ${o.model.size} differs from the data's ${o.data.size}`);
  if (o.model.channels !== o.data.channels) {
    throw new ArgumentError('channels', `the model takes ${o.model.channels} channels, the data has ${o.data.channels}`);
  }
  for (const [flag, v] of [['--epochs', o.epochs], ['--batch', o.batchSize], ...(o.patience !== undefined ? [['--patience', o.patience] as const] : [])] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ArgumentError(flag, `must be a positive integer, got ${v}`);
  }
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate))) {
    throw new ArgumentError('--lr', `must be a positive number, got ${o.learningRate}`);
  }
  if (!Number.isSafeInteger(o.seed)) throw new ArgumentError('--seed', `must be an integer, got ${o.seed}`);
  if (o.defaults !== undefined && !TRAINING_DEFAULTS.includes(o.defaults)) {
    throw new ArgumentError('--defaults', `must be one of ${TRAINING_DEFAULTS.join(', ')}, got '${String(o.defaults)}'`);
  }
}

/**
 * Where the two frameworks' defaults differ in the arithmetic of a step: batch norm's running variance and Adam's
 * epsilon (the initial weights are the model's). Returns the optimizer a run with these defaults trains with.
 */
export function trainingArithmetic(model: tfl.LayersModel, defaults: TrainingDefaults, learningRate: number): FusedAdamOptimizer {
  setBatchNormVariance(model, defaults === 'pytorch' ? 'unbiased' : 'biased');
  return new FusedAdamOptimizer(learningRate, defaults === 'pytorch' ? 1e-8 : null);
}

/** What a training step needs beyond the batch, each as the trainer's option of the same meaning. */
export interface TrainStepOptions {
  /** The cores' gap-weighted cross-entropy (instance networks); none: soft Dice only. */
  readonly gaps?: GapWeightOptions;
  /** Variables left unchanged this step (a frozen encoder). */
  readonly frozen?: ReadonlySet<tf.Variable>;
  readonly coreTarget?: CoreTarget;
  /** The flow loss's weight against the foreground's (flow networks). */
  readonly flowWeight?: number;
}

/**
 * One optimisation step on one batch, as every epoch runs it; returns the batch's loss before the update. `frozen`
 * variables get no gradient and do not move.
 */
export function trainStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  batch: Pick<Batch, 'inputs' | 'masks' | 'cores' | 'flows' | 'count'>,
  data: Pick<TrainingData, 'size' | 'channels'>,
  { gaps, frozen, coreTarget = 'binary', flowWeight = FLOW_LOSS_WEIGHT }: TrainStepOptions = {},
): number {
  const loss = tf.tidy(() => {
    const x = tf.tensor4d(batch.inputs, [batch.count, data.size, data.size, data.channels]);
    const shape: [number, number, number, number] = [batch.count, data.size, data.size, 1];
    const masks = tf.tensor4d(batch.masks, shape);
    // An instance network's second output learns the cores (src/instances/).
    const cores = batch.cores ? tf.tensor4d(batch.cores, shape) : null;
    const depth = coreTarget === 'depth';
    // The gaps are between the cores, which a depth target holds as its values above one half.
    const coreMasks = depth && batch.cores ? batch.cores.map((v) => (v > 0.5 ? 1 : 0)) : batch.cores;
    const weights = cores && gaps ? tf.tensor4d(batchGapWeights(coreMasks!, batch.count, data.size, gaps), shape) : cores && depth ? tf.onesLike(cores) : null;
    // A flow network's second and third outputs learn the centre flows (src/instances/flow-target.ts).
    const flows = batch.flows ? tf.tensor4d(batch.flows, [batch.count, data.size, data.size, 2]) : null;
    const objective = () => {
      const prediction = model.apply(x, { training: true }) as tf.Tensor4D;
      if (flows) return flowLoss(masks, flows, prediction, flowWeight);
      const dice = depth ? softDiceLoss(masks, tf.slice(prediction, [0, 0, 0, 0], [-1, -1, -1, 1])) : channelwiseSoftDiceLoss(cores ? tf.concat([masks, cores], 3) : masks, prediction);
      if (!cores || !weights) return dice;
      return tf.add(dice, weightedCrossEntropy(cores, tf.slice(prediction, [0, 0, 0, 1], [-1, -1, -1, 1]), weights)) as tf.Scalar;
    };
    if (!frozen?.size) return optimizer.minimize(objective, true, variables)!;
    const { value, grads } = tf.variableGrads(objective, variables.filter((v) => !frozen.has(v)));
    // tfjs's Adam keeps each variable's moments by its place in the list it is given: every variable keeps its place,
    // a frozen one with no gradient (its moments stay zero until it trains). Its bias correction is global, not per
    // variable as PyTorch's, so an encoder's first steps once unfrozen are up to ~3x Adam's usual first step.
    optimizer.applyGradients(Object.fromEntries(variables.map((v) => [v.name, grads[v.name] ?? null])) as tf.NamedTensorMap);
    return value;
  });
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

/**
 * Soft Dice on the foreground plus Cellpose's flow loss: the mean squared error of the flows, which Cellpose takes on
 * flows scaled by 5 and halves, here on the 0..1 sigmoid outputs (v = 2u - 1), so 50 times their squared error.
 */
export const FLOW_LOSS_WEIGHT = 50;

function flowLoss(masks: tf.Tensor4D, flows: tf.Tensor4D, prediction: tf.Tensor4D, weight: number): tf.Scalar {
  const foreground = tf.slice(prediction, [0, 0, 0, 0], [-1, -1, -1, 1]);
  const predicted = tf.slice(prediction, [0, 0, 0, 1], [-1, -1, -1, 2]);
  return tf.add(softDiceLoss(masks, foreground), tf.mul(weight, tf.mean(tf.squaredDifference(predicted, flows)))) as tf.Scalar;
}

/** The gap weights of each S x S core mask of a batch, side by side as the batch holds them. */
function batchGapWeights(cores: Float32Array, count: number, size: number, options: GapWeightOptions): Float32Array {
  const pixels = size * size;
  const out = new Float32Array(count * pixels);
  for (let i = 0; i < count; i++) out.set(gapWeights(cores.subarray(i * pixels, (i + 1) * pixels), size, size, options), i * pixels);
  return out;
}

/**
 * Mean per-sample DSC (the reference's rules) on the validation batches, at the network's resolution. For an
 * instance network (two outputs) the mean of the foreground's and the cores' DSC: the cores decide how objects
 * split, so the best epoch is the one best at both.
 */
export async function validationDsc(model: tfl.LayersModel, data: TrainingData, batchSize: number): Promise<number> {
  const pixels = data.size * data.size;
  let sum = 0;
  let n = 0;
  for await (const batch of data.validationBatches(batchSize)) {
    const prediction = tf.tidy(() => model.predict(tf.tensor4d(batch.inputs, [batch.count, data.size, data.size, data.channels])) as tf.Tensor);
    const p = (await prediction.data()) as Float32Array;
    prediction.dispose();
    // Weights that overflowed in the epoch's last steps show here first (the loss saturates, it does not go NaN).
    for (let k = 0; k < p.length; k++) if (!Number.isFinite(p[k])) return NaN;
    const outputs = p.length / (batch.count * pixels);
    if (outputs === 3 && batch.flows) {
      for (let i = 0; i < batch.count; i++) (sum += flowScore(p, batch.masks, batch.flows, i, pixels, data.size)), n++;
      continue;
    }
    const truths = outputs === 2 && batch.cores ? [batch.masks, batch.cores] : [batch.masks];
    for (let i = 0; i < batch.count; i++) {
      let dsc = 0;
      truths.forEach((t, c) => {
        const map = new Float32Array(pixels);
        for (let j = 0; j < pixels; j++) map[j] = p[(i * pixels + j) * outputs + c];
        const pred = { width: data.size, height: data.size, channels: 1 as const, data: map };
        const truth = { width: data.size, height: data.size, channels: 1 as const, data: t.subarray(i * pixels, (i + 1) * pixels) };
        dsc += metricsFromConfusion(confusion(pred, truth)).dsc;
      });
      sum += dsc / truths.length;
      n++;
    }
  }
  if (n === 0) throw new StsError('the validation set is empty: a run needs validation images to choose its best epoch');
  return sum / n;
}

/**
 * A flow network's validation score of sample `i`: the mean of its foreground's DSC and of the cosine between its
 * flows and the true ones over the true foreground (negative cosines count 0), so that the best epoch is best at both.
 */
function flowScore(p: Float32Array, masks: Float32Array, flows: Float32Array, i: number, pixels: number, size: number): number {
  const map = new Float32Array(pixels);
  let agree = 0;
  let count = 0;
  for (let j = 0; j < pixels; j++) {
    const k = (i * pixels + j) * 3;
    map[j] = p[k];
    if (masks[i * pixels + j] < 0.5) continue;
    const [py, px] = [2 * p[k + 1] - 1, 2 * p[k + 2] - 1];
    const [ty, tx] = [2 * flows[(i * pixels + j) * 2] - 1, 2 * flows[(i * pixels + j) * 2 + 1] - 1];
    const norm = Math.hypot(py, px) * Math.hypot(ty, tx);
    agree += norm > 0 ? Math.max(0, (py * ty + px * tx) / norm) : 0;
    count++;
  }
  const pred = { width: size, height: size, channels: 1 as const, data: map };
  const truth = { width: size, height: size, channels: 1 as const, data: masks.subarray(i * pixels, (i + 1) * pixels) };
  const dsc = metricsFromConfusion(confusion(pred, truth)).dsc;
  return (dsc + (count > 0 ? agree / count : 1)) / 2;
}

async function saveCheckpoint(out: string, model: tfl.LayersModel, optimizer: tf.Optimizer, state: RunState, metadata: Record<string, unknown>) {
  const weights = [...(await optimizer.getWeights()), ...biasCorrections(optimizer)];
  const encoded = await tf.io.encodeWeights(weights);
  // getWeights() hands out the optimizer's own variables plus a fresh iteration-count tensor, ours to free.
  for (const w of weights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
  // The optimizer and state go in the same atomic folder as the weights they belong with.
  await saveModel(join(out, 'last'), model, metadata, async (tmp) => {
    await writeFile(join(tmp, 'optimizer.bin'), new Uint8Array(tf.io.CompositeArrayBuffer.join(encoded.data)));
    await writeFile(join(tmp, 'optimizer.json'), JSON.stringify(encoded.specs));
    await writeFile(join(tmp, 'state.json'), JSON.stringify(state));
  });
}

interface Resumed {
  readonly model: tfl.LayersModel;
  readonly optimizer: { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer };
  readonly state: RunState;
  readonly defaults: TrainingDefaults;
}

async function resumeState(o: TrainOptions, config: Record<string, unknown>): Promise<Resumed | undefined> {
  const entries = await readdir(o.out);
  const hasLast = entries.includes('last');
  if (!o.resume) {
    if (entries.some((e) => ['config.json', 'last', 'best', 'log.jsonl'].includes(e))) {
      throw new ArgumentError('--out', `${o.out} already holds a run; add --resume to continue it, or choose another folder`);
    }
    return undefined;
  }
  if (!hasLast) {
    // A folder that holds a run but no complete checkpoint must not silently start over: that would replace best/.
    // A run stopped before its first checkpoint has nothing to lose (no epoch logged, and at most the best/ that
    // epoch 1 writes just before its checkpoint): it starts again, and its epoch 1 replaces that best/.
    const logged = entries.includes('log.jsonl') && (await readFile(join(o.out, 'log.jsonl'), 'utf8').catch(() => '')).trim() !== '';
    const bestOfFirstEpoch = async () =>
      (await readFile(join(o.out, 'best', 'model.json'), 'utf8').then((t) => (JSON.parse(t) as { userDefinedMetadata?: { epoch?: unknown } }).userDefinedMetadata?.epoch === 1).catch(() => false));
    const keepsBest = entries.includes('best') && (logged || !(await bestOfFirstEpoch()));
    const run = keepsBest || logged ? entries.filter((e) => ['config.json', 'best', 'log.jsonl'].includes(e)) : [];
    if (run.length > 0) {
      throw new StsError(
        `${o.out}: --resume found no complete checkpoint (no last/, but ${run.join(', ')}); nothing was changed and best/ is kept. ` +
          'To train again from the start, use another --out (or delete this folder)',
      );
    }
    return undefined;
  }
  const damaged = `the run in ${o.out} cannot be resumed: delete the folder to train again, or use another --out`;
  const saved = await readJsonFile<Record<string, unknown>>(join(o.out, 'config.json'), damaged);
  for (const [key, value] of Object.entries(config)) {
    // Runs started before a setting was recorded (e.g. the training scale) resume without it.
    if (!(key in saved)) continue;
    if (JSON.stringify(saved[key]) !== JSON.stringify(value)) {
      throw new ArgumentError(key, `the run in ${o.out} was started with ${JSON.stringify(saved[key])}, not ${JSON.stringify(value)}; resume with the same settings or use another --out`);
    }
  }
  const last = join(o.out, 'last');
  const { model } = await loadModel(last);
  const state = checkedState(await readJsonFile<unknown>(join(last, 'state.json'), damaged), join(last, 'state.json'), damaged);
  const specs = await readJsonFile<tf.io.WeightsManifestEntry[]>(join(last, 'optimizer.json'), damaged);
  if (!Array.isArray(specs) || specs.some((s) => typeof s?.name !== 'string' || !Array.isArray(s.shape))) {
    throw new StsError(`${join(last, 'optimizer.json')}: not a list of weight specs; ${damaged}`);
  }
  const bin = await readFile(join(last, 'optimizer.bin')).catch((error: NodeJS.ErrnoException) => {
    throw new StsError(`${join(last, 'optimizer.bin')}: cannot be read (${error.code ?? error.message}); ${damaged}`);
  });
  const expected = specs.reduce((n, s) => n + weightBytes(s), 0);
  if (bin.byteLength !== expected) throw new StsError(`${join(last, 'optimizer.bin')}: holds ${bin.byteLength} bytes but optimizer.json describes ${expected}; ${damaged}`);
  const defaults = (saved.defaults as TrainingDefaults | undefined) ?? 'tfjs';
  return { model, state, defaults, optimizer: { specs, data: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer } };
}

/** The saved run state, checked field by field: a hand-edited or damaged state.json is named, not trained on. */
function checkedState(value: unknown, file: string, damaged: string): RunState {
  const v = value as Partial<Record<keyof RunState, unknown>> | null;
  const bad = (what: string) => new StsError(`${file}: ${what}; ${damaged}`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('is not a JSON object');
  if (!Number.isInteger(v.epoch) || (v.epoch as number) < 1) throw bad(`"epoch" is ${JSON.stringify(v.epoch)}, not a whole number >= 1`);
  if (typeof v.bestDsc !== 'number' || !(v.bestDsc >= 0 && v.bestDsc <= 1)) throw bad(`"bestDsc" is ${JSON.stringify(v.bestDsc)}, not a DSC between 0 and 1`);
  if (!Number.isInteger(v.bestEpoch) || (v.bestEpoch as number) < 1 || (v.bestEpoch as number) > (v.epoch as number)) throw bad(`"bestEpoch" is ${JSON.stringify(v.bestEpoch)}, not an epoch from 1 to ${v.epoch}`);
  if (v.record !== undefined && (typeof v.record !== 'object' || v.record === null)) throw bad('"record" is not an object');
  return v as RunState;
}

/**
 * Adam's running products beta^t, which tfjs's getWeights leaves out and setWeights recomputes as powers: a
 * different rounding that, through Adam's normalisation of near-zero gradients, made a resumed run drift from an
 * uninterrupted one. Saved under their own names, they make resuming exact.
 */
const BIAS_CORRECTIONS = ['accBeta1', 'accBeta2'] as const;
const savedName = (field: string) => `sts/adam/${field}`;
type AdamInternals = Partial<Record<(typeof BIAS_CORRECTIONS)[number], tf.Variable>>;

function biasCorrections(optimizer: tf.Optimizer): { name: string; tensor: tf.Tensor }[] {
  const internals = optimizer as unknown as AdamInternals;
  return BIAS_CORRECTIONS.flatMap((f) => (internals[f] instanceof tf.Variable ? [{ name: savedName(f), tensor: internals[f].clone() }] : []));
}

async function restoreOptimizer(optimizer: tf.Optimizer, saved: Resumed['optimizer']): Promise<void> {
  const map = tf.io.decodeWeights(saved.data, saved.specs);
  const ours = new Set<string>(BIAS_CORRECTIONS.map(savedName));
  await optimizer.setWeights(saved.specs.filter((s) => !ours.has(s.name)).map((s) => ({ name: s.name, tensor: map[s.name] })));
  // Runs saved before the bias corrections were kept resume with tfjs's recomputed ones.
  const internals = optimizer as unknown as AdamInternals;
  for (const f of BIAS_CORRECTIONS) if (map[savedName(f)] && internals[f]) internals[f].assign(map[savedName(f)]);
  tf.dispose(Object.values(map)); // setWeights and assign copied them into variables
}
