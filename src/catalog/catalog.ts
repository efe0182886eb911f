/**
 * The pretrained model pairs that ship with the tool, used by name (`sts predict --model nuclei`,
 * `loadModelPair('nuclei')`), as StarDist, Cellpose or TotalSegmentator users expect. Each pair is a folder of
 * `models/` (or of $STS_MODELS_DIR): `rough/` and `fine/` (TensorFlow.js models with compact weights),
 * `split.json` (the split it was trained on: its test part was held out) and `README.md` (the model card).
 * A name is a folder; nothing else lists them, so adding a pair is adding its folder.
 */
import { access, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ArgumentError, StsError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { type NetworkModel, openNetworkModel } from './network-model.js';
import { pairProblem } from './pair-check.js';

/** Where the catalog's pairs live: $STS_MODELS_DIR, else the package's own `models/`. */
export function catalogDir(): string {
  return process.env.STS_MODELS_DIR ? resolve(process.env.STS_MODELS_DIR) : join(packageRoot, 'models');
}

const exists = (path: string) => access(path).then(() => true, () => false);

/** The names of the pairs in `dir`: the folders holding rough/model.json and fine/model.json. */
export async function catalogNames(dir = catalogDir()): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && (await exists(join(dir, e.name, 'rough', 'model.json'))) && (await exists(join(dir, e.name, 'fine', 'model.json')))) names.push(e.name);
  }
  return names.sort();
}

export interface CatalogEntry {
  readonly name: string;
  readonly rough: string;
  readonly fine: string;
  /** The split the pair was trained on (its test part held out), when recorded. */
  readonly split?: string;
  /** The model card. */
  readonly card: string;
}

/** Whether `name` is written as a path (a pair folder such as `sts finetune` writes), not a catalog name. */
export function isPairPath(name: string): boolean {
  return name.includes('/') || name.includes('\\') || name === '.' || name === '..';
}

/**
 * The folders of the pair `name`: a catalog name, or a pair folder given as a path (`./my-pair`, `out/he-pair`:
 * rough/, fine/ and optionally split.json and README.md, as the catalog's and `sts finetune`'s). An unknown name is
 * an error that lists the names there are.
 */
export async function catalogEntry(name: string, dir = catalogDir()): Promise<CatalogEntry> {
  if (isPairPath(name)) return pairFolderEntry(name);
  const names = await catalogNames(dir);
  if (!names.includes(name)) {
    const folder = (await exists(join(name, 'rough', 'model.json'))) ? ` (a pair folder here is given as a path: --model ./${name})` : '';
    throw new ArgumentError('--model', `no pretrained pair '${name}' in the catalog (${dir}); the pairs are: ${names.join(', ') || 'none'}${folder}`);
  }
  return entryOfFolder(name, join(dir, name));
}

async function pairFolderEntry(path: string): Promise<CatalogEntry> {
  const root = resolve(path);
  for (const stage of ['rough', 'fine']) {
    if (!(await exists(join(root, stage, 'model.json')))) {
      throw new ArgumentError('--model', `${path} is not a model pair folder: it has no ${stage}/model.json (a pair folder holds rough/ and fine/, as sts finetune writes; give a catalog name or such a folder)`);
    }
  }
  return entryOfFolder(path, root);
}

async function entryOfFolder(name: string, root: string): Promise<CatalogEntry> {
  const split = join(root, 'split.json');
  return { name, rough: join(root, 'rough'), fine: join(root, 'fine'), ...((await exists(split)) ? { split } : {}), card: join(root, 'README.md') };
}

export interface ModelPair {
  readonly rough: NetworkModel;
  readonly fine: NetworkModel;
  readonly size: number;
  readonly channels: 1 | 3;
  /** The catalog entry, when the pair was taken by name. */
  readonly entry?: CatalogEntry;
}

/** Where a pair comes from: a catalog name, or the rough and fine models (folders or .onnx files, mixed freely). */
export type ModelPairSource = string | { readonly rough: string; readonly fine: string };

/**
 * Loads a rough + fine pair and checks them against each other (same S, same channels), so a misfit pair is named
 * before any image is read.
 */
export async function loadModelPair(source: ModelPairSource): Promise<ModelPair> {
  const entry = typeof source === 'string' ? await catalogEntry(source) : undefined;
  const paths = entry ?? (source as { rough: string; fine: string });
  const [rough, fine] = await Promise.allSettled([openNetworkModel(paths.rough), openNetworkModel(paths.fine)]);
  if (rough.status === 'rejected' || fine.status === 'rejected') {
    for (const r of [rough, fine]) if (r.status === 'fulfilled') r.value.dispose();
    throw (rough.status === 'rejected' ? rough.reason : (fine as PromiseRejectedResult).reason) as Error;
  }
  const [r, f] = [rough.value, fine.value];
  const problem = pairProblem({ ...r, name: paths.rough }, { ...f, name: paths.fine });
  if (problem) {
    r.dispose();
    f.dispose();
    throw new StsError(problem);
  }
  return { rough: r, fine: f, size: r.size, channels: r.channels as 1 | 3, ...(entry ? { entry } : {}) };
}

/**
 * The pair a command was given: `--model <name>`, or `--rough` and `--fine` (both), never both ways at once.
 */
export function pairSourceOfOptions(o: { model?: string; rough?: string; fine?: string }): ModelPairSource {
  if (o.model !== undefined) {
    if (o.rough !== undefined || o.fine !== undefined) throw new ArgumentError('--model', 'takes a catalog pair by name: leave out --rough and --fine, or give those two without --model');
    return o.model;
  }
  if (o.rough === undefined || o.fine === undefined) {
    throw new ArgumentError(o.rough === undefined ? '--rough' : '--fine', 'give both --rough and --fine model folders, or a pretrained pair with --model <name> (sts models lists them)');
  }
  return { rough: o.rough, fine: o.fine };
}
