/**
 * `sts predict`'s values that size allocations, named at once instead of once per image (or minutes later): --scale
 * that would enlarge images (refused as the command line is read), --overlap at S (refused after the models load,
 * before any image), and a large image announced with its size and work before its rough pass starts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeRaw } from '../support/datasets.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const models = ['--rough', join(FIXTURE_MODELS, 'cells-rough'), '--fine', join(FIXTURE_MODELS, 'cells-fine')];
const env = { ...process.env, STS_ALLOCATOR: 'system' };

function sts(...args: string[]) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, err: r.stderr, seconds: (performance.now() - started) / 1000 };
}

/**
 * A 1 MB gray TIFF that claims `width` x `height`: every 1,024 x 1,024 tile entry points at the same stored tile,
 * as the hostile campaign's 1.2 MB file claiming 100,000 x 100,000 did.
 */
function claimedTiff(path: string, width: number, height: number): void {
  const T = 1024;
  const n = Math.ceil(width / T) * Math.ceil(height / T);
  const tile = Buffer.alloc(T * T, 40);
  const entries: [number, number, number][] = [[256, 4, width], [257, 4, height], [258, 3, 8], [259, 3, 1], [262, 3, 1], [277, 3, 1], [284, 3, 1], [322, 3, T], [323, 3, T]];
  const offsetsAt = 8 + tile.length;
  const countsAt = offsetsAt + 4 * n;
  const ifdAt = countsAt + 4 * n;
  const count = entries.length + 2;
  const b = Buffer.alloc(ifdAt + 2 + 12 * count + 4);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(ifdAt, 4);
  tile.copy(b, 8);
  for (let i = 0; i < n; i++) {
    b.writeUInt32LE(8, offsetsAt + 4 * i);
    b.writeUInt32LE(tile.length, countsAt + 4 * i);
  }
  b.writeUInt16LE(count, ifdAt);
  const all: [number, number, number, number][] = [...entries.map(([tag, type, v]): [number, number, number, number] => [tag, type, 1, v]), [324, 4, n, offsetsAt], [325, 4, n, countsAt]];
  all.forEach(([tag, type, k, v], i) => {
    const at = ifdAt + 2 + 12 * i;
    b.writeUInt16LE(tag, at);
    b.writeUInt16LE(type, at + 2);
    b.writeUInt32LE(k, at + 4);
    if (type === 3 && k === 1) b.writeUInt16LE(v, at + 8);
    else b.writeUInt32LE(v, at + 8);
  });
  writeFileSync(path, b);
}

describe('sts predict limits', () => {
  it('refuses a --scale that would enlarge images as the command line is read, and an S beyond 4,096 for train', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-predict-limits-'));
    await writeRaw(join(dir, 'cells.png'), new Uint8Array(256 * 256 * 3).fill(90), 256, 256, 3);
    for (const [scale, enlarge] of [['0.02', '50']]) {
      const r = sts('predict', ...models, '--scale', scale, join(dir, 'cells.png'), '--out', join(dir, 'out'));
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, new RegExp(`^sts: error: --scale: ${scale} original pixels per rough input pixel would enlarge every image ${enlarge}x before the rough pass .*the scale must be at least 0\\.25 \\(at most 4x\\); give a larger --scale, or leave it out`, 'm'));
      assert.ok(!existsSync(join(dir, 'out')), 'nothing written');
    }
    const train = sts('train', '--data', dir, '--size', '65536', '--out', join(dir, 'run'));
    assert.equal(train.code, 1);
    assert.match(train.err, /--size: must be at most 4,096 \(the largest input side this tool feeds\), got 65536/);
  });

  it('refuses --overlap at S once the models are loaded, before any image, instead of once per image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-predict-overlap-'));
    for (const name of ['a', 'b']) await writeRaw(join(dir, 'in', `${name}.png`), new Uint8Array(96 * 96 * 3).fill(90), 96, 96, 3);
    const r = sts('predict', ...models, '--overlap', '64', '--scale', '1', join(dir, 'in'), '--out', join(dir, 'out'));
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^sts: error: --overlap: 64 must be a whole number below S = 64, the models' input side \(rough tiles step by S - overlap\); give 0 to 63, or leave it out for S \/ 4 = 16$/m);
    assert.doesNotMatch(r.err, /a\.png|b\.png/, 'no image was tried');
    assert.deepEqual(existsSync(join(dir, 'out')) ? readdirSync(join(dir, 'out')) : [], []);
  });

  it('announces a small file that claims 100,000 x 100,000 pixels with its size and work before the rough pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-predict-claimed-'));
    const file = join(dir, 'claimed.tif');
    claimedTiff(file, 100_000, 100_000);
    const child = spawn(process.execPath, [cli, 'predict', ...models, '--scale', '8', file, '--out', join(dir, 'out')], { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const started = performance.now();
    const line = await new Promise<string | undefined>((done) => {
      const timer = setTimeout(() => done(undefined), 60_000);
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        const found = err.split('\n').find((l) => l.startsWith(`${file}: `));
        if (found) {
          clearTimeout(timer);
          done(found);
        }
      });
      child.on('exit', () => done(undefined));
    });
    const seconds = (performance.now() - started) / 1000;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    assert.equal(
      line,
      `${file}: 100,000 x 100,000 pixels (10,000 megapixels), downscaled to 12,500 x 12,500 for the rough pass, 68,121 tiles, then a fine crop per object found: this takes a while (Ctrl-C stops it)`,
      err,
    );
    assert.doesNotMatch(err.slice(0, err.indexOf(line!)), /rough \d+\/\d+/, 'said before the first tile');
    assert.ok(seconds < 30, `said after ${seconds.toFixed(1)} s`);
  });
});
