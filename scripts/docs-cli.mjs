#!/usr/bin/env node
// Writes docs/cli.md, the CLI reference, from the commands' own definitions (src/cli/reference.ts); run by
// `npm run docs:cli` after a build. test/cli/reference.test.ts fails when the committed page differs.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../dist/src/cli/program.js';
import { cliReference } from '../dist/src/cli/reference.js';

const out = fileURLToPath(new URL('../docs/cli.md', import.meta.url));
writeFileSync(out, cliReference(buildProgram()));
console.log(`wrote ${out}`);
