import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildProgram } from '../../src/cli/program.js';
import { cliReference } from '../../src/cli/reference.js';
import { packageRoot } from '../../src/paths.js';

describe('the CLI reference (docs/cli.md)', () => {
  const page = cliReference(buildProgram());

  it('has a section for every command and subcommand, with its options and defaults', () => {
    for (const c of buildProgram().commands) {
      assert.match(page, new RegExp(`^## \`sts ${c.name()}\`$`, 'm'));
      for (const sub of c.commands) assert.match(page, new RegExp(`^### \`sts ${c.name()} ${sub.name()}\`$`, 'm'));
    }
    assert.match(page, /^\| `--batch <n>` \| tiles and crops per network call .* \| `8` \|$/m);
    assert.match(page, /^\| `--out <folder>` \(required\) \| where the result folders go/m);
    assert.match(page, /^\| `<inputs\.\.\.>` \| image files or folders of images \|$/m);
    // Defaults inside the package are written the same on every machine.
    assert.ok(!page.includes(packageRoot), 'the page names this machine\'s folder');
    assert.match(page, /`"<package>\/assets\/demo\/dsb2018-image\.png"`/);
  });

  it('is up to date: docs/cli.md is what `npm run docs:cli` writes now', () => {
    const committed = readFileSync(join(packageRoot, 'docs/cli.md'), 'utf8');
    assert.ok(committed === page, 'docs/cli.md is out of date with the commands in src/cli/program.ts: run `npm run docs:cli` and commit docs/cli.md');
  });
});
