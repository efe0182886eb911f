#!/usr/bin/env node
// Decodes every image and mask of the given folders with sharp at a failOn level and counts what fails: the check
// behind DECODE_FAIL_ON in src/io/image-files.ts (the strictest that still opens every valid real file).
// Usage: node scripts/check-decoding.mjs <warning|error|truncated> <folder>...
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

const [level, ...folders] = process.argv.slice(2);
sharp.concurrency(1);
async function* files(dir) {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* files(join(dir, e.name));
    else if (/\.(png|jpe?g|tiff?)$/i.test(e.name)) yield join(dir, e.name);
  }
}
let n = 0;
const failed = [];
for (const folder of folders) {
  for await (const f of files(folder)) {
    n++;
    await sharp(f, { failOn: level, limitInputPixels: false }).raw().toBuffer().catch((e) => failed.push(`${f}: ${e.message}`));
  }
}
console.log(`${level}: ${n} files, ${failed.length} failed`);
for (const f of failed.slice(0, 10)) console.log(`  ${f}`);
