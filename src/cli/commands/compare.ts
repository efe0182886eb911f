/** `sts compare`: two evaluations of the same images, before and after, with paired bootstrap intervals. */
import { readFile, writeFile } from 'node:fs/promises';
import { writeAtomically } from '../../io/atomic-write.js';
import { StsError } from '../../errors.js';
import { comparisonTable, compareEvaluations, parsePerImageCsv } from '../../experiments/compare.js';

export interface CompareOptions {
  readonly resamples: number;
  readonly seed: number;
  readonly out?: string;
}

async function readCsv(file: string) {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new StsError(`${file}: cannot read it (${e.code ?? e.message}); give the per_image.csv that sts evaluate or sts reproduce wrote`);
  });
  return parsePerImageCsv(text, file);
}

export async function runCompare(before: string, after: string, o: CompareOptions, log: (line: string) => void = console.log): Promise<void> {
  const rows = compareEvaluations(await readCsv(before), await readCsv(after), { before, after }, { resamples: o.resamples, seed: o.seed });
  const table =
    `Before: \`${before}\`; after: \`${after}\`. Paired per-image differences, 95% percentile bootstrap over the images ` +
    `(${o.resamples} resamples, seed ${o.seed}): how sure the mean is for these networks on images like these, not across training seeds.\n\n` +
    comparisonTable(rows);
  log(table);
  if (o.out) {
    await writeAtomically(o.out, (tmp) => writeFile(tmp, table));
    log(`wrote ${o.out}`);
  }
}
