/** `sts semi-synthetic-aorta`: builds the semi-synthetic CT set around AVT label volumes (the `aorta` preset's data). */
import { join } from 'node:path';
import { defaultDataDir } from '../../datasets/open-dataset.js';
import { buildSemiSyntheticAorta, defaultSemiSyntheticAortaDir } from '../../datasets/semi-synthetic-aorta.js';

export interface SemiSyntheticCommandOptions {
  readonly labels?: string;
  readonly out?: string;
  readonly seed: number;
}

export async function runSemiSyntheticAorta(o: SemiSyntheticCommandOptions, signal?: AbortSignal, log: (line: string) => void = console.log): Promise<void> {
  const labels = o.labels ?? join(defaultDataDir(), 'avt-dongyang-labels');
  const out = o.out ?? defaultSemiSyntheticAortaDir();
  log(`painting CT around the label volumes in ${labels} into ${out}`);
  await buildSemiSyntheticAorta(labels, out, { seed: o.seed, log, signal });
  log(`done: ${out} (open it with --data ${out}; results on it are semi-synthetic, never AVT results)`);
}
