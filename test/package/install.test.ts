/**
 * The npm package as a user gets it: `npm pack` here, then an install of the tarball into an empty folder, and
 * `npx sts --help`, `npx sts predict --model nuclei <image>` and both library entries (with their types) from there.
 *
 * No network: the empty folder gets a package-lock.json made from this project's own (the package's dependencies
 * are the project's non-dev packages, at the versions and integrities locked here), and `npm ci --offline` takes
 * every tarball from npm's cache, which the project's own `npm ci` filled. (`npm install --offline <tarball>`
 * without a lockfile does not work: it needs the registry's package lists, which `npm ci` never fetches.)
 * The libtorch addon is not compiled here (STS_SKIP_NATIVE=1: minutes of C++); the test checks that the
 * package's install script ran, and that without the addon `sts` says once, in one line, how to get the fast engine.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { packageRoot } from '../../src/paths.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

interface PackResult {
  filename: string;
  size: number;
  entryCount: number;
  files: { path: string }[];
}

interface LockEntry {
  version?: string;
  dev?: boolean;
  [key: string]: unknown;
}

/** A child's environment without the settings that would make it pick an engine or addon the test did not ask for. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra };
  for (const key of ['STS_BACKEND', 'STS_TORCH_ADDON', 'STS_MODELS_DIR', 'npm_config_prefix', 'npm_package_json', 'npm_config_local_prefix']) delete env[key];
  return env;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

/** As run, without blocking: the checks after the install run side by side. */
function runAsync(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, timeout: 240_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The consumer's package.json and package-lock.json: the tarball, and the project's non-dev packages as locked. */
function consumerFiles(tarball: string): { manifest: object; lock: object } {
  const lock = JSON.parse(readFileSync(join(packageRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const root = lock.packages[''] as LockEntry & { dependencies: Record<string, string> };
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'sts-consumer', dependencies: { 'segment-then-segment': spec } },
    'node_modules/segment-then-segment': {
      version: root.version, resolved: spec, hasInstallScript: true, license: root.license,
      dependencies: root.dependencies, bin: root.bin, engines: root.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && !entry.dev) packages[path] = entry;
  return {
    manifest: { name: 'sts-consumer', private: true, type: 'module', dependencies: { 'segment-then-segment': spec } },
    lock: { name: 'sts-consumer', lockfileVersion: 3, requires: true, packages },
  };
}

describe('the npm package, installed from its tarball into an empty folder', { concurrency: true }, () => {
  let dir: string;
  let consumer: string;
  let packed: PackResult;
  let install: SpawnSyncReturns<string>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sts-package-'));
    // --ignore-scripts: `npm test` has just built dist/, so prepack's build would only repeat it.
    const pack = run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], packageRoot, cleanEnv());
    assert.equal(pack.status, 0, pack.stderr);
    packed = (JSON.parse(pack.stdout) as PackResult[])[0];
    consumer = join(dir, 'consumer');
    const { manifest, lock } = consumerFiles(join(dir, packed.filename));
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), JSON.stringify(manifest, null, 2));
    writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify(lock, null, 2));
    install = run(npm, ['ci', '--offline', '--foreground-scripts'], consumer, cleanEnv({ STS_SKIP_NATIVE: '1', ONNXRUNTIME_NODE_INSTALL: 'skip' }));
    if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) {
      assert.fail('the offline install needs every dependency tarball in npm\'s cache, and one is missing: run ' +
        '`npm ci` in the project (it fills the cache) and rerun the test\n' + install.stderr);
    }
    assert.equal(install.status, 0, `npm ci of the packed tarball failed:\n${install.stdout}\n${install.stderr}`);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds what a user needs and nothing else', () => {
    const files = packed.files.map((f) => f.path);
    for (const needed of [
      'package.json', 'README.md', 'dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/core.js',
      'dist/src/core.d.ts', 'models/nuclei/rough/model.json', 'models/nuclei/fine/weights.bin', 'models/polyp/rough/model.json',
      'assets/demo/dsb2018-image.png', 'native/binding.gyp', 'native/src/addon.cc', 'native/libtorch-config.cjs',
      'scripts/build-native.mjs',
    ]) assert.ok(files.includes(needed), `the package lacks ${needed}`);
    const unwanted = files.filter((f) => /^(src|test|bench|web|docs|dist\/test|dist\/bench|dist\/web|native\/build|runs|out)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'));
    assert.deepEqual(unwanted, []);
  });

  it('runs its install script, which finds libtorch from the installed package as it does in the project', () => {
    // The build itself is skipped here by STS_SKIP_NATIVE=1 (measured by hand: `npm rebuild segment-then-segment`
    // in such a folder builds the addon in about 30 s and sts then runs on torch).
    assert.match(install.stdout + install.stderr, /\[sts\] STS_SKIP_NATIVE=1: not building the libtorch addon/);
    const check = (cwd: string) => {
      const r = run(process.execPath, ['libtorch-config.cjs', 'check'], cwd, cleanEnv());
      return r.status === 0 ? (JSON.parse(r.stdout) as { ok: boolean; root?: string }) : { ok: false };
    };
    assert.deepEqual(check(join(consumer, 'node_modules/segment-then-segment/native')), check(join(packageRoot, 'native')));
  });

  it('puts sts on the PATH of npx', async () => {
    const r = await runAsync(npx, ['sts', '--help'], consumer, cleanEnv());
    assert.equal(r.status, 0, r.stderr);
    for (const command of ['predict', 'train', 'evaluate', 'models']) assert.match(r.stdout, new RegExp(`^  ${command} `, 'm'));
  });

  it('segments an image with the catalog pair, on wasm without the addon, saying so once in one line', async () => {
    // A 192 x 160 crop of the held-out DSB2018 image: real nuclei, small enough for the wasm engine in seconds.
    await sharp(join(packageRoot, 'assets/demo/dsb2018-image.png')).extract({ left: 200, top: 150, width: 192, height: 160 }).toFile(join(consumer, 'nuclei.png'));
    const r = await runAsync(npx, ['sts', 'predict', '--model', 'nuclei', 'nuclei.png', '--out', 'results'], consumer, cleanEnv({ STS_THREADS: '1' }));
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(readFileSync(join(consumer, 'results/nuclei/summary.json'), 'utf8')) as { objects: number; objectKind: string; width: number };
    assert.equal(summary.width, 192);
    assert.equal(summary.objectKind, 'instances');
    assert.ok(summary.objects >= 5, `${summary.objects} nuclei found in a crop that holds more than 10`);
    for (const file of ['overlay.png', 'labels.png', 'objects.csv', 'objects.geojson']) assert.ok(existsSync(join(consumer, 'results/nuclei', file)), file);
    const engineLines = r.stderr.split('\n').filter((l) => /using the wasm engine/.test(l));
    assert.equal(engineLines.length, 1, r.stderr);
    assert.match(engineLines[0], /the libtorch addon is not built; for the fast engine install libtorch/);
    assert.match(engineLines[0], /npm rebuild segment-then-segment/);
  });

  it('gives the Node entry and the core entry to import, with their types', async () => {
    writeFileSync(join(consumer, 'check.ts'), [
      "import { loadModelPair, readImage, segmentThenSegment, type SegmentationNetwork } from 'segment-then-segment';",
      "import * as core from 'segment-then-segment/core';",
      'const network: SegmentationNetwork | undefined = undefined;',
      'const s: typeof segmentThenSegment = core.segmentThenSegment;',
      'console.log(JSON.stringify({ node: [typeof loadModelPair, typeof readImage, typeof s], core: typeof core.imageMetrics, network }));',
      '',
    ].join('\n'));
    const tsc = await runAsync(process.execPath, [join(packageRoot, 'node_modules/typescript/bin/tsc'), '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--typeRoots', join(packageRoot, 'node_modules/@types'), 'check.ts'], consumer, cleanEnv());
    assert.equal(tsc.status, 0, `the package's types do not check:\n${tsc.stdout}${tsc.stderr}`);
    const r = await runAsync(process.execPath, ['check.js'], consumer, cleanEnv());
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { node: ['function', 'function', 'function'], core: 'function' });
  });
});
