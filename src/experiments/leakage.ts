/**
 * Evaluation leakage: scoring a model on images it was trained or validated on says how well it fits its own
 * data, not how it does on new images. The splits models were trained on travel with them (a catalog pair's
 * `models/<pair>/split.json`, a training run's `<run>/split.json` beside its `best/`), so an evaluation can tell
 * which of the images it scores are in their train or valid parts, and say so (or refuse, with --strict).
 */
import { access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Sample } from '../datasets/dataset.js';
import { SPLIT_FILE, type Split } from '../datasets/split.js';
import { StsError } from '../errors.js';
import { readJsonFile } from '../io/json-file.js';

/** A split a model was trained on, and which model (or pair) it belongs to, for messages. */
export interface ModelSplit {
  readonly path: string;
  readonly owner: string;
  readonly split: Pick<Split, 'train' | 'valid' | 'test'>;
}

export interface TrainingOverlap extends ModelSplit {
  /** Scored images in the split's train and valid parts. */
  readonly train: number;
  readonly valid: number;
}

/**
 * The split file a model folder was trained on, when it keeps one where `sts train` and the catalog put it: in the
 * folder above (`runs/x-rough/best` -> `runs/x-rough/split.json`, `models/nuclei/rough` -> `models/nuclei/split.json`).
 * An `.onnx` file has none.
 */
export async function splitFileOfModel(modelPath: string): Promise<string | undefined> {
  if (/\.onnx$/i.test(modelPath)) return undefined;
  const file = join(dirname(resolve(modelPath)), SPLIT_FILE);
  return (await access(file).then(() => true, () => false)) ? file : undefined;
}

/** Reads the splits of these files (once each); `owner` names whose split each is. */
export async function readModelSplits(files: readonly { path: string; owner: string }[]): Promise<ModelSplit[]> {
  const seen = new Set<string>();
  const out: ModelSplit[] = [];
  for (const { path, owner } of files) {
    const key = resolve(path);
    if (seen.has(key)) continue;
    seen.add(key);
    const split = await readJsonFile<Split>(path, 'it is the split the model was trained on: restore it, or move it away to evaluate without the check');
    const ids = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
    if (!ids(split?.train) || !ids(split?.valid) || !ids(split?.test)) throw new StsError(`${path}: not a split file (needs train, valid and test id lists); restore it, or move it away to evaluate without the check`);
    out.push({ path, owner, split });
  }
  return out;
}

/** For each split, how many of `samples` are in its train and valid parts; splits with none are left out. */
export function trainingOverlap(samples: readonly Pick<Sample, 'id'>[], splits: readonly ModelSplit[]): TrainingOverlap[] {
  const out: TrainingOverlap[] = [];
  const seen = new Set<string>();
  for (const s of splits) {
    // Two runs of one pair split alike (same dataset, same seed): say it once.
    const key = JSON.stringify([s.split.train, s.split.valid]);
    if (seen.has(key)) continue;
    seen.add(key);
    const train = new Set(s.split.train);
    const valid = new Set(s.split.valid);
    const counts = { train: 0, valid: 0 };
    for (const { id } of samples) {
      if (train.has(id)) counts.train++;
      else if (valid.has(id)) counts.valid++;
    }
    if (counts.train + counts.valid > 0) out.push({ ...s, ...counts });
  }
  return out;
}

/** The warning (or, with `strict`, the refusal) for an evaluation that scores images of its models' own split. */
export function leakageMessage(overlap: TrainingOverlap, scored: number, { strict = false } = {}): string {
  const first = overlap.train > 0 ? overlap.train : overlap.valid;
  const parts = [overlap.train > 0 ? 'the train part' : '', overlap.valid > 0 ? `${overlap.train > 0 ? `${overlap.valid} in ` : ''}the valid part` : ''].filter(Boolean).join(' and ');
  return (
    `${first} of the ${scored} images scored ${first === 1 ? 'is' : 'are'} in ${parts} of ${overlap.path}, the split ${overlap.owner} was trained on: ` +
    `their scores say how well it fits its own data, not how it does on new images; score only the held-out part with --split ${overlap.path} (its test part, the default --part)` +
    (strict ? '' : ', or add --strict to refuse such an evaluation')
  );
}

/**
 * The splits the models at `paths` were trained on (each found by `splitFileOfModel`), read once each; `pair` names
 * a catalog pair, whose two models share one split.
 */
export async function splitsOfModels(paths: readonly string[], pair?: string): Promise<ModelSplit[]> {
  const files: { path: string; owner: string }[] = [];
  for (const path of paths) {
    const file = await splitFileOfModel(path);
    if (file) files.push({ path: file, owner: pair ? `the ${pair} pair` : `the model ${path}` });
  }
  return readModelSplits(files);
}
