/**
 * A model pair loaded once and the options of a prediction run, turning image files into result folders: the
 * per-image work of `sts predict`, shared by its loop and by the cohort queue's workers, so both write the same
 * folders and skip the same finished ones. Node-only (files).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { type ModelPair, type ModelPairSource, loadModelPair } from '../catalog/catalog.js';
import { adoptFolder, isOurFolder, recoverFolder } from '../io/atomic-write.js';
import { DROP_POLICIES, type DropPolicy } from '../geometry/boxes.js';
import type { ResizeMode } from '../geometry/resize.js';
import type { OnProgress } from '../types/progress.js';
import { pairPassOfModels } from '../types/training-scale.js';
import type { NetworkModel } from '../catalog/network-model.js';
import { type DisposableNetwork, outputsOf } from '../types/network.js';
import { DEFAULT_MIN_SIZE } from '../instances/split-by-cores.js';
import { NECKS } from '../instances/seed-necks.js';
import { CORE_FLOOD, CORE_LEVELS, DEFAULT_CORE_VOTE, INSTANCE_FOREGROUND } from './fine-results.js';
import { FLOW_DECODE } from '../instances/follow-flows.js';
import { type PredictImageSummary, SUMMARY_FILE, predictImage } from './predict-image.js';
import { predictionLimitsProblem } from './prediction-limits.js';

/** The options of a prediction run that change its results (all plain JSON: a queue job carries them). */
export interface PredictionOptions {
  /** Tiles and crops per network call. */
  readonly batch: number;
  readonly overlap?: number;
  readonly maxCrop?: number;
  /** Rounds of crop growth; default 0. */
  readonly growCrops?: number;
  readonly withinRough?: boolean;
  readonly roughOnlyUpTo?: number;
  /** Original pixels per rough input pixel, instead of the model's training scale. */
  readonly scale?: number;
  /** false: every image gets the paper's single S x S rough pass. */
  readonly tiling: boolean;
  readonly dropPolicy: DropPolicy;
  readonly resize: ResizeMode;
  /** Which series of an OME-TIFF (default: the one with the largest image). */
  readonly series?: number;
  /** An instance pair's smallest object in pixels (default 15, as Cellpose's min_size; 0 keeps all). */
  readonly minSize?: number;
}

/**
 * What is wrong with `value` as prediction options, or nothing: every key known, every value of its type. A queue
 * job carries its options as JSON from the producer, which may run another version of sts than the worker.
 */
export function predictionOptionsProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'the options are not an object';
  const o = value as Record<string, unknown>;
  const positive = (v: unknown) => typeof v === 'number' && v > 0 && Number.isFinite(v);
  const whole = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  const checks: Record<keyof PredictionOptions, [(v: unknown) => boolean, string, boolean]> = {
    batch: [(v) => whole(v) && (v as number) > 0, 'a positive whole number', true],
    overlap: [whole, 'a whole number >= 0', false],
    maxCrop: [(v) => whole(v) && (v as number) > 0, 'a positive whole number', false],
    growCrops: [(v) => whole(v) && (v as number) <= 8, 'a whole number from 0 to 8', false],
    withinRough: [(v) => typeof v === 'boolean', 'true or false', false],
    roughOnlyUpTo: [(v) => whole(v) && (v as number) > 0, 'a positive whole number', false],
    scale: [positive, 'a positive number', false],
    tiling: [(v) => typeof v === 'boolean', 'true or false', true],
    dropPolicy: [(v) => (DROP_POLICIES as readonly unknown[]).includes(v), DROP_POLICIES.join(' or '), true],
    resize: [(v) => v === 'nearest' || v === 'bilinear', 'nearest or bilinear', true],
    series: [whole, 'a whole number >= 0', false],
    minSize: [whole, 'a whole number >= 0', false],
  };
  const unknown = Object.keys(o).filter((k) => !(k in checks));
  if (unknown.length) return `unknown option${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `'${k}'`).join(', ')}`;
  for (const [key, [ok, what, required]] of Object.entries(checks)) {
    if (o[key] === undefined) {
      if (required) return `option '${key}' is missing`;
    } else if (!ok(o[key])) return `option '${key}' is ${JSON.stringify(o[key])}, not ${what}`;
  }
  return undefined;
}

export interface Predictor {
  readonly pair: ModelPair;
  /** The rough pass's scale, when it follows one. */
  readonly scale?: { factorX: number; factorY: number };
  /** What every result of this predictor records besides its input: the models and the options. */
  readonly settings: Record<string, unknown>;
  /** Predicts `file` into its result folder under `out`, or skips it when that folder holds its result already. */
  predictFile(file: string, out: string, o?: PredictFileOptions): Promise<PredictFileResult>;
  dispose(): void;
}

export interface PredictFileOptions {
  /** Folder names given to other inputs in this run (filled in as it goes). */
  readonly taken?: Set<string>;
  readonly signal?: AbortSignal;
  readonly onProgress?: OnProgress;
  /** Told, one line each, what was chosen or converted in reading the image (its series, a scaling of its samples). */
  readonly note?: (line: string) => void;
}

export type PredictFileResult =
  | { readonly dir: string; readonly skipped: true }
  | { readonly dir: string; readonly skipped: false; readonly reason?: string; readonly summary: PredictImageSummary };

export async function createPredictor(source: ModelPairSource, o: PredictionOptions): Promise<Predictor> {
  const pair = await loadModelPair(source);
  // Values that size allocations, against S and the recorded scale: named now, not once per image.
  const limits = predictionLimitsProblem(o, pair);
  if (limits) {
    pair.rough.dispose();
    pair.fine.dispose();
    throw limits;
  }
  // A fine network trained on windows of large boxes is run so unless --max-crop says otherwise.
  const { scale, tileAbove, maxCropSide: maxCrop } = pairPassOfModels(pair.rough.metadata, pair.fine.metadata, { scale: o.scale, tiling: o.tiling, maxCrop: o.maxCrop });
  // Made once for all images: each folds its model on first use and lets the original go.
  const networks: { rough: DisposableNetwork; fine: DisposableNetwork } = {
    rough: pair.rough.network({ batchSize: o.batch }),
    fine: pair.fine.network({ batchSize: o.batch }),
  };
  // What makes a result: the models (their paths and files' times) and every option that changes the pixels.
  const modelIdentity = async (m: NetworkModel) => ({ path: resolve(m.path), modified: (await stat(m.versionFile)).mtime.toISOString() });
  const settings = {
    models: { rough: await modelIdentity(pair.rough), fine: await modelIdentity(pair.fine) },
    options: {
      scale: scale ?? null, tileAbove: tileAbove ?? null, overlap: o.overlap ?? null, maxCrop: maxCrop ?? null,
      // Only when used: results made before the option existed stay done.
      ...(o.growCrops ? { growCrops: o.growCrops } : {}),
      withinRough: o.withinRough === true, roughOnlyUpTo: o.roughOnlyUpTo ?? null, dropPolicy: o.dropPolicy, resize: o.resize,
      // Only when given: results made before --series existed keep matching.
      ...(o.series !== undefined ? { series: o.series } : {}),
      // An instance pair's objects depend on how its cores are decoded: recorded, so that a result decoded otherwise
      // (before the centre-weighted cores, the 15 px smallest object, the cut necks and the centre-weighted
      // foreground) is made again, not reused. The core levels and the flood only when not the first defaults, so that
      // results decoded before they existed, the same way, stay done.
      ...(outputsOf(networks.fine) === 2
        ? {
            instances: {
              coreVote: DEFAULT_CORE_VOTE, minSize: o.minSize ?? DEFAULT_MIN_SIZE, necks: NECKS, foreground: INSTANCE_FOREGROUND,
              ...(CORE_LEVELS.levels.length > 0 ? { coreLevels: CORE_LEVELS } : {}), ...(CORE_FLOOD !== 'distance' ? { coreFlood: CORE_FLOOD } : {}),
            },
          }
        : {}),
      // A flow pair's objects depend on how its flows are followed (instances/follow-flows.ts).
      ...(outputsOf(networks.fine) === 3 ? { instances: { flows: FLOW_DECODE, minSize: o.minSize ?? DEFAULT_MIN_SIZE, foreground: INSTANCE_FOREGROUND } } : {}),
    },
  };
  return {
    pair,
    ...(scale ? { scale } : {}),
    settings,
    async predictFile(file, out, { taken = new Set<string>(), signal, onProgress, note } = {}) {
      const provenance = { input: await inputIdentity(file), ...settings };
      const target = await resultFolder(out, file, provenance, taken);
      if (target.done) return { dir: target.dir, skipped: true };
      const summary = await predictImage(file, target.dir, {
        size: pair.size,
        channels: pair.channels,
        ...networks,
        scale,
        tileAbove,
        overlap: o.overlap,
        maxCropSide: maxCrop,
        growCrops: o.growCrops,
        withinRough: o.withinRough === true,
        roughOnlyUpTo: o.roughOnlyUpTo,
        batchSize: o.batch,
        dropPolicy: o.dropPolicy,
        resizeMode: o.resize,
        series: o.series,
        minSize: o.minSize,
        note,
        signal,
        provenance,
        onProgress,
      });
      return { dir: target.dir, skipped: false, ...(target.reason ? { reason: target.reason } : {}), summary };
    },
    dispose() {
      networks.rough.dispose();
      networks.fine.dispose();
    },
  };
}

/**
 * A result folder's base name: the file name without its extension (and without .ome). A name that would be empty,
 * hidden, or `.` / `..` (from files named `..png` or `...png`, which would make the result folder `--out` itself or
 * its parent) gets a leading `_`.
 */
export function outputBase(file: string): string {
  const base = basename(file, extname(file)).replace(/\.ome$/i, '');
  return base === '' || base.startsWith('.') ? `_${base}` : base;
}

/** The input file as a result records it: where it is, how large, when it last changed. */
async function inputIdentity(file: string): Promise<{ path: string; bytes: number; modified: string }> {
  const s = await stat(file);
  return { path: resolve(file), bytes: s.size, modified: s.mtime.toISOString() };
}

async function readProvenance(dir: string): Promise<{ input?: { path?: string }; [key: string]: unknown } | undefined> {
  try {
    return (JSON.parse(await readFile(join(dir, SUMMARY_FILE), 'utf8')) as { provenance?: { input?: { path?: string } } }).provenance ?? {};
  } catch {
    return undefined;
  }
}

/**
 * Where the result of `file` goes and whether it is done: the first of <base>, <base>-2, ... that holds this
 * input's result (same path), or else the first that is free (so two inputs with one base name, in one run or in
 * two, get two folders). A result is done when it records the same input (size and modification time), models and
 * options; otherwise it is redone, and `reason` says why. A folder that sts did not write (no marker: a user's
 * dataset folder, notes, a backup) is never taken, whatever its name; a result of an earlier version (no marker,
 * but a summary recording this very input) is recognised and marked.
 */
export async function resultFolder(
  out: string,
  file: string,
  provenance: { input: { path: string } },
  taken: Set<string>,
): Promise<{ dir: string; done: boolean; reason?: string }> {
  const base = outputBase(file);
  for (let k = 1; ; k++) {
    const name = k === 1 ? base : `${base}-${k}`;
    if (taken.has(name)) continue;
    const dir = join(out, name);
    if (dirname(resolve(dir)) !== resolve(out)) throw new Error(`result folder ${dir} is not directly in ${out} (a bug: the name was not made safe)`);
    // A result a killed process had finished but not yet moved into place is completed first (or its leftovers go).
    await recoverFolder(dir);
    const found = await stat(dir).catch(() => undefined);
    if (!found) {
      taken.add(name);
      return { dir, done: false };
    }
    if (!found.isDirectory()) continue;
    const recorded = await readProvenance(dir);
    const sameInput = recorded?.input?.path === provenance.input.path;
    if (!(await isOurFolder(dir))) {
      if (!sameInput) continue;
      await adoptFolder(dir);
    }
    // Another input's result, or one of ours that cannot be read: left alone.
    if (!sameInput) continue;
    taken.add(name);
    if (JSON.stringify(recorded) === JSON.stringify(provenance)) return { dir, done: true };
    const { input: a, ...restA } = recorded!;
    const { input: b, ...restB } = provenance as Record<string, unknown>;
    const reason = JSON.stringify(a) !== JSON.stringify(b) ? 'the image file changed since' : JSON.stringify(restA) !== JSON.stringify(restB) ? 'the models or options differ from' : 'it differs from';
    return { dir, done: false, reason: `${reason} the result in ${dir}` };
  }
}
