#!/usr/bin/env node
// Decodes every image and mask of the given folders with sharp at a failOn level and counts what fails: the check
// behind DECODE_FAIL_ON in src/io/image-decoding.ts (the strictest that still opens every valid real file). JPEGs
// also get the check of their compressed data that sts adds (src/io/jpeg-data.ts; run `npx tsc` first).
// Usage: node scripts/check-decoding.mjs <warning|error|truncated> <folder>...
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { jpegDataProblem } from '../dist/src/io/jpeg-data.js';

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
    let problem;
    try {
      await sharp(f, { failOn: level, limitInputPixels: false }).raw().toBuffer();
      if (/\.jpe?g$/i.test(f)) problem = await jpegDataProblem(await readFile(f));
    } catch (e) {
      problem = e.message;
    }
    if (problem) failed.push(`${f}: ${problem}`);
  }
}
console.log(`${level}: ${n} files, ${failed.length} failed`);
for (const f of failed.slice(0, 10)) console.log(`  ${f}`);
