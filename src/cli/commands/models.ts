/** `sts models`: the catalog's pretrained pairs, one line each (name and the model card's title), for --model. */
import { readFile } from 'node:fs/promises';
import { catalogDir, catalogEntry, catalogNames } from '../../catalog/catalog.js';

export async function runModels(log: (line: string) => void = console.log): Promise<void> {
  const names = await catalogNames();
  if (names.length === 0) {
    log(`no pretrained pairs in ${catalogDir()}`);
    return;
  }
  for (const name of names) {
    const { card } = await catalogEntry(name);
    const title = (await readFile(card, 'utf8').catch(() => '')).split('\n').find((l) => l.startsWith('# '))?.slice(2) ?? '';
    log(`${name.padEnd(12)} ${title}  (${card})`);
  }
}
