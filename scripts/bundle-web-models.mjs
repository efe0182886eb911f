#!/usr/bin/env node
// Puts the catalog's pretrained pairs (models/<name>/, compact weights) into the web app as web/public/models/
// <name>-rough and <name>-fine, and writes the list the page offers (web/public/models/catalog.json), each pair
// described by its model card's title and summary line. Run by `npm run build:web` and `npm run web`; the copies
// are not committed (models/ is the one source).
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const catalog = join(root, 'models');
const out = join(root, 'web/public/models');

await mkdir(out, { recursive: true });
const exists = (p) => readFile(p).then(() => true, () => false);
const pairs = [];
const names = (await readdir(catalog, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name).sort();
for (const name of names) {
  if (!(await exists(join(catalog, name, 'rough', 'model.json'))) || !(await exists(join(catalog, name, 'fine', 'model.json')))) continue;
  const card = await readFile(join(catalog, name, 'README.md'), 'utf8').catch(() => '');
  const title = card.split('\n').find((l) => l.startsWith('# '))?.slice(2) ?? name;
  const summary = card.split('\n').find((l) => l.startsWith('Summary: '))?.slice('Summary: '.length) ?? `the catalog's ${name} pair (models/${name}/README.md)`;
  for (const stage of ['rough', 'fine']) {
    await rm(join(out, `${name}-${stage}`), { recursive: true, force: true });
    await cp(join(catalog, name, stage), join(out, `${name}-${stage}`), { recursive: true });
  }
  const dataset = JSON.parse(await readFile(join(catalog, name, 'rough', 'model.json'), 'utf8')).userDefinedMetadata?.sts?.dataset?.kind;
  pairs.push({ id: name, dataset, name: title, rough: `${name}-rough/model.json`, fine: `${name}-fine/model.json`, training: summary });
}
await writeFile(join(out, 'catalog.json'), JSON.stringify({ pairs }, null, 2) + '\n');
console.log(`[sts] web app models: ${pairs.map((p) => p.id).join(', ')} (web/public/models/catalog.json)`);
