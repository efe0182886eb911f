/** `sts models`: the catalog's pretrained pairs, one line each (name, instances or semantic, the model card's title), for --model. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { catalogDir, catalogEntry, catalogNames } from '../../catalog/catalog.js';

export async function runModels(log: (line: string) => void = console.log): Promise<void> {
  const names = await catalogNames();
  if (names.length === 0) {
    log(`no pretrained pairs in ${catalogDir()}`);
    return;
  }
  for (const name of names) {
    const { card, fine } = await catalogEntry(name);
    const title = (await readFile(card, 'utf8').catch(() => '')).split('\n').find((l) => l.startsWith('# '))?.slice(2) ?? '';
    // What its objects are: an instance pair's fine network outputs object cores or flows (recorded in its metadata).
    const metadata = JSON.parse(await readFile(join(fine, 'model.json'), 'utf8').catch(() => '{}')) as { userDefinedMetadata?: { sts?: { model?: { outputs?: number } } } };
    const kind = (metadata.userDefinedMetadata?.sts?.model?.outputs ?? 1) >= 2 ? 'instances' : 'semantic';
    log(`${name.padEnd(12)} ${kind.padEnd(10)} ${title}  (${card})`);
  }
}
