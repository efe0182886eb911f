/**
 * Train / validation / test splits, seeded and saved as JSON in the run folder, so that training, validation,
 * testing and any resumed run all use the same one. A saved split is never silently redone: if the dataset no
 * longer holds exactly its ids, loading stops and says which ids differ.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArgumentError, StsError } from '../errors.js';
import { seededRng, shuffled } from '../random.js';
import type { Dataset, Sample, SplitPolicy } from './dataset.js';
import { writeAtomically } from '../io/atomic-write.js';

export interface Split {
  readonly version: 1;
  readonly seed: number;
  readonly policy: SplitPolicy;
  readonly root: string;
  readonly layout: string;
  readonly train: readonly string[];
  readonly valid: readonly string[];
  readonly test: readonly string[];
  /**
   * Images of the folder that none of the parts use: a learning curve trains on k of a set's images and scores
   * one fixed held-out part, leaving the rest aside. Listed so that the split still accounts for every image.
   */
  readonly unused?: readonly string[];
}

export const SPLIT_FILE = 'split.json';

/**
 * Shuffles the samples (or, with `by: 'group'`, the groups: patients) with `seed` and cuts them by `policy.ratios`.
 * Part sizes are the ratios times the count, rounded down, with what is left given to the parts with the largest
 * fractions (18 patients at 70/20/10 give 13/3/2).
 */
export function makeSplit(dataset: Pick<Dataset, 'samples' | 'splitPolicy' | 'root' | 'layout'>, seed: number, policy = dataset.splitPolicy): Split {
  const { ratios, by } = policy;
  if (ratios.length !== 3 || ratios.some((r) => !(r >= 0)) || Math.abs(ratios[0] + ratios[1] + ratios[2] - 1) > 1e-9) {
    throw new ArgumentError('ratios', `must be three non-negative fractions adding up to 1, got ${ratios.join(', ')}`);
  }
  const keys = by === 'group' ? [...new Set(dataset.samples.map((s) => s.group))].sort() : dataset.samples.map((s) => s.id).sort();
  const order = shuffled(keys, seededRng(seed));
  const sizes = partSizes(order.length, ratios);
  const parts = [order.slice(0, sizes[0]), order.slice(sizes[0], sizes[0] + sizes[1]), order.slice(sizes[0] + sizes[1])];
  const ids = (part: string[]): string[] => {
    if (by !== 'group') return part;
    const groups = new Set(part);
    return dataset.samples.filter((s) => groups.has(s.group)).map((s) => s.id);
  };
  return {
    version: 1,
    seed,
    policy: { ratios: [...ratios] as unknown as SplitPolicy['ratios'], by },
    root: dataset.root,
    layout: dataset.layout,
    train: ids(parts[0]),
    valid: ids(parts[1]),
    test: ids(parts[2]),
  };
}

function partSizes(n: number, ratios: readonly number[]): number[] {
  const exact = ratios.map((r) => r * n);
  const sizes = exact.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  // Fractions compared at 1e-9 so that float noise (18 x 0.2 = 3.6000000000000005) does not break ties, which go to
  // the earlier part.
  const fraction = (i: number) => Math.round((exact[i] - sizes[i]) * 1e9);
  const byFraction = [0, 1, 2].sort((a, b) => fraction(b) - fraction(a) || a - b);
  for (let k = 0; left > 0; k++, left--) sizes[byFraction[k % 3]]++;
  return sizes;
}

/**
 * The run's split: read from `<runDir>/split.json` when it exists (checked against the dataset), otherwise made
 * with `seed` and written there atomically. `created` tells which happened.
 */
export async function loadOrCreateSplit(
  runDir: string,
  dataset: Dataset,
  { seed = 42, policy = dataset.splitPolicy }: { seed?: number; policy?: SplitPolicy } = {},
): Promise<{ split: Split; created: boolean; path: string }> {
  const path = join(runDir, SPLIT_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StsError(`${path}: cannot read the saved split (${(error as Error).message})`);
    }
  }
  if (text === undefined) {
    const split = makeSplit(dataset, seed, policy);
    await writeAtomically(path, (tmp) => writeFile(tmp, `${JSON.stringify(split, null, 1)}\n`));
    return { split, created: true, path };
  }
  const split = parseSplit(text, path);
  checkSplitMatches(split, dataset, path);
  return { split, created: false, path };
}

function parseSplit(text: string, path: string): Split {
  let s: Split;
  try {
    s = JSON.parse(text) as Split;
  } catch (error) {
    throw new StsError(`${path}: the saved split is not valid JSON (${(error as Error).message}); restore it or delete it to split afresh`);
  }
  const isIds = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (s?.version !== 1 || !isIds(s.train) || !isIds(s.valid) || !isIds(s.test) || (s.unused !== undefined && !isIds(s.unused))) {
    throw new StsError(`${path}: not a split file of this version (needs version 1 and train/valid/test id lists); restore it or delete it to split afresh`);
  }
  return s;
}

/** Throws unless the dataset holds exactly the split's ids. */
export function checkSplitMatches(split: Split, dataset: Pick<Dataset, 'samples' | 'root'>, path: string, shown = 5): void {
  const inSplit = new Set([...split.train, ...split.valid, ...split.test, ...(split.unused ?? [])]);
  const inData = new Set(dataset.samples.map((s) => s.id));
  const missing = [...inSplit].filter((id) => !inData.has(id));
  const added = [...inData].filter((id) => !inSplit.has(id));
  if (missing.length === 0 && added.length === 0) return;
  const list = (ids: string[]) => `${ids.slice(0, shown).join(', ')}${ids.length > shown ? ` and ${ids.length - shown} more` : ''}`;
  const parts: string[] = [];
  if (missing.length) parts.push(`${missing.length} id(s) of the split are missing from the dataset: ${list(missing)}`);
  if (added.length) parts.push(`${added.length} id(s) of the dataset are not in the split: ${list(added)}`);
  throw new StsError(
    `${path}: the saved split does not match the dataset at ${dataset.root}; ${parts.join('; ')}. ` +
      `Point to the dataset this run was split on, or start a new run folder (or delete ${path}) to split afresh`,
  );
}

/** The samples of each part, in the split's order. */
export function splitSamples(split: Split, dataset: Pick<Dataset, 'samples'>): { train: Sample[]; valid: Sample[]; test: Sample[] } {
  const byId = new Map(dataset.samples.map((s) => [s.id, s]));
  const pick = (ids: readonly string[]) => ids.map((id) => byId.get(id)).filter((s): s is Sample => s !== undefined);
  return { train: pick(split.train), valid: pick(split.valid), test: pick(split.test) };
}
