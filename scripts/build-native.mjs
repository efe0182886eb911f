#!/usr/bin/env node
// Builds the libtorch addon (native/) with node-gyp; run by `npm install` and `npm run build:native`.
// Without libtorch it explains what to install and exits 0, so that the project still installs and runs on the
// wasm backend. STS_SKIP_NATIVE=1 skips the build; STS_REQUIRE_NATIVE=1 makes a failed build an error.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const required = process.env.STS_REQUIRE_NATIVE === '1';

function give(message) {
  console.warn(`[sts] ${message}`);
  process.exit(required ? 1 : 0);
}

if (process.env.STS_SKIP_NATIVE === '1') give('STS_SKIP_NATIVE=1: not building the libtorch addon; the engine will use wasm.');

const check = spawnSync(process.execPath, ['libtorch-config.cjs', 'check'], { cwd: nativeDir, encoding: 'utf8' });
const found = check.status === 0 ? JSON.parse(check.stdout) : { ok: false, problems: [check.stderr] };
if (!found.ok) {
  give(`libtorch not found (${found.problems.join('; ')}). The engine will fall back to the much slower wasm ` +
    'backend. To get the fast `torch` backend: on Debian/Ubuntu run `sudo apt-get install -y libtorch-dev` ' +
    '(or `bash scripts/install-libtorch.sh`), or set STS_LIBTORCH to a libtorch folder (a libtorch download or ' +
    "pip's site-packages/torch), then `npm run build:native`.");
}

// node-gyp: npm's own (npm tells scripts where it is), else the copy bundled with npm next to node.
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  path.join(root, 'node_modules/node-gyp/bin/node-gyp.js'),
].filter((p) => p && existsSync(p));
if (candidates.length === 0) give('node-gyp not found (it ships with npm); install it with `npm i -g node-gyp`.');

const args = [candidates[0], 'rebuild', '--directory', nativeDir, '--jobs', '2'];
if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
console.log(`[sts] building the libtorch addon against ${found.root} ...`);
const r = spawnSync(process.execPath, args, { cwd: nativeDir, stdio: 'inherit' });
if (r.status !== 0) give('building the libtorch addon failed (see above); the engine will use wasm.');
console.log('[sts] built native/build/Release/sts_torch.node');
