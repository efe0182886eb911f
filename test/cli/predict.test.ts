import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import '../support/engine.js';
import { jemallocLibrary } from '../../src/engine/allocator.js';
import { saveModel } from '../../src/engine/model-files.js';
import { createModel } from '../../src/models/index.js';
import { parseShard, shardOf } from '../../src/cli/commands/predict.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function sts(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, STS_THREADS: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sts predict', () => {
  it('segments a folder, names a broken file while finishing the others, and skips finished images on a rerun', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-predict-cli-'));
    const model = createModel({ name: 'unet', size: 32, channels: 3, features: 2 }, { seed: 1 });
    const scale = { imageWidth: 64, imageHeight: 64, factorX: 2, factorY: 2 };
    await saveModel(join(dir, 'rough'), model, { sts: { model: { name: 'unet', size: 32 }, stage: 'rough', scale } });
    await saveModel(join(dir, 'fine'), model, { sts: { model: { name: 'unet', size: 32 }, stage: 'fine', scale } });
    const images = join(dir, 'images');
    mkdirSync(images);
    const pixels = new Uint8Array(200 * 150 * 3).map((_, i) => (i * 7) % 251);
    await sharp(pixels, { raw: { width: 200, height: 150, channels: 3 } }).tiff({ tile: true, tileWidth: 64, tileHeight: 64 }).toFile(join(images, 'a.tif'));
    await sharp(pixels.subarray(0, 40 * 30 * 3), { raw: { width: 40, height: 30, channels: 3 } }).png().toFile(join(images, 'b.png'));
    const png = readFileSync(join(images, 'b.png'));
    writeFileSync(join(images, 'c-broken.png'), png.subarray(0, png.length >> 1));
    mkdirSync(join(images, 'nested'));
    const out = join(dir, 'out');

    const first = sts('predict', '--rough', join(dir, 'rough'), '--fine', join(dir, 'fine'), '--out', out, images);
    assert.equal(first.code, 1, first.err);
    assert.match(first.err, /c-broken\.png: cannot/);
    assert.match(first.err, /1 of 3 images failed/);
    assert.match(first.err, /images: 1 subfolder not searched \(nested\); name them to segment their images too/);
    assert.match(first.err, /a\.tif: \d+ objects, 200 x 150, rough tiled/);
    // the command reruns itself on jemalloc where it is installed (engine/allocator.ts)
    assert.match(first.err, new RegExp(`engine: \\w+, 1 threads, ${jemallocLibrary() && process.env.STS_ALLOCATOR !== 'system' ? 'jemalloc' : 'system'} malloc`));
    assert.deepEqual(readdirSync(out).sort(), ['a', 'b']);
    for (const name of ['a', 'b']) {
      const files = readdirSync(join(out, name)).sort();
      assert.deepEqual(files, ['.sts-output', 'mask.png', 'objects.csv', 'objects.geojson', 'overlay.png', 'summary.json']);
    }
    assert.ok(existsSync(join(out, 'a', 'summary.json')));

    const again = sts('predict', '--rough', join(dir, 'rough'), '--fine', join(dir, 'fine'), '--out', out, join(images, 'a.tif'), join(images, 'b.png'));
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /a\.tif: done before/);
    assert.match(again.err, /b\.png: done before/);

    // Results are keyed by the input, not its base name: another b.png gets its own folder, and a result is
    // skipped only for the same file unchanged with the same models and options.
    const other = join(dir, 'other');
    mkdirSync(other);
    await sharp(pixels.subarray(0, 48 * 32 * 3), { raw: { width: 48, height: 32, channels: 3 } }).png().toFile(join(other, 'b.png'));
    const second = sts('predict', '--rough', join(dir, 'rough'), '--fine', join(dir, 'fine'), '--out', out, join(other, 'b.png'));
    assert.equal(second.code, 0, second.err);
    assert.doesNotMatch(second.err, /done before/);
    assert.deepEqual(readdirSync(out).sort(), ['a', 'b', 'b-2']);
    assert.match(readFileSync(join(out, 'b-2', 'summary.json'), 'utf8'), /"width": 48/);
    assert.match(readFileSync(join(out, 'b', 'summary.json'), 'utf8'), /"width": 40/);
    await sharp(pixels.subarray(0, 40 * 30 * 3).map((v) => 255 - v), { raw: { width: 40, height: 30, channels: 3 } }).png().toFile(join(images, 'b.png'));
    const changed = sts('predict', '--rough', join(dir, 'rough'), '--fine', join(dir, 'fine'), '--out', out, join(images, 'b.png'));
    assert.match(changed.err, /b\.png: redone: the image file changed since the result in .*out\/b\b/);
    const options = sts('predict', '--rough', join(dir, 'rough'), '--fine', join(dir, 'fine'), '--out', out, '--drop-policy', 'reference', join(images, 'b.png'));
    assert.match(options.err, /b\.png: redone: the models or options differ from the result in .*out\/b\b/);
    assert.deepEqual(readdirSync(out).sort(), ['a', 'b', 'b-2']);
  });

  it('--precision picks the inference number format; a bad value or a flag without the one it needs is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-predict-precision-'));
    const model = createModel({ name: 'unet', size: 32, channels: 3, features: 2 }, { seed: 1 });
    const scale = { imageWidth: 64, imageHeight: 64, factorX: 2, factorY: 2 };
    for (const stage of ['rough', 'fine'] as const) await saveModel(join(dir, stage), model, { sts: { model: { name: 'unet', size: 32 }, stage, scale } });
    const image = join(dir, 'a.png');
    await sharp(new Uint8Array(48 * 40 * 3).map((_, i) => (i * 13) % 251), { raw: { width: 48, height: 40, channels: 3 } }).png().toFile(image);
    const run = (precision: string) => sts('predict', '--rough', join(dir, 'rough'), '--fine', join(dir, 'fine'), '--out', join(dir, precision), '--precision', precision, image);
    const f32 = run('float32');
    assert.equal(f32.code, 0, f32.err);
    assert.match(f32.err, /float32 inference/);
    const bf16 = run('bfloat16');
    if (/bfloat16 inference does not run on this machine/.test(bf16.err)) {
      // A CPU without AVX-512 (oneDNN's bfloat16 path needs avx512bw/vl/dq): a named error before any image.
      assert.equal(bf16.code, 1);
      assert.match(bf16.err, /^sts: error: bfloat16 inference does not run on this machine \(.*\); use float32/m);
      assert.ok(!existsSync(join(dir, 'bfloat16', 'a')));
    } else {
      assert.equal(bf16.code, 0, bf16.err);
      // bfloat16 runs on torch only; another engine says so and computes in float32.
      assert.match(bf16.err, /engine: torch/.test(bf16.err) ? /bfloat16 inference/ : /needs the torch engine/);
      assert.ok(existsSync(join(dir, 'bfloat16', 'a', 'mask.png')));
    }
    const bad = run('half');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^sts: error: --precision: must be one of float32, bfloat16; got 'half'/m);
    const alone = sts('predict', '--rough', join(dir, 'rough'), '--fine', join(dir, 'fine'), '--out', join(dir, 'x'), '--rough-only-up-to', '64', image);
    assert.equal(alone.code, 1);
    assert.match(alone.err, /^sts: error: --rough-only-up-to: needs --within-rough/m);
  });

  it('names a missing input or model', () => {
    const r = sts('predict', '--rough', '/nonexistent/rough', '--fine', '/nonexistent/fine', '--out', tmpdir(), '/nonexistent/image.png');
    assert.equal(r.code, 1);
    assert.match(r.err, /^sts: error: \/nonexistent\/image\.png: no such file or folder/m);
    // An impossible --out is named before any model is loaded or image segmented (Node's recursive mkdir hangs on it).
    const image = fileURLToPath(new URL('../../../assets/demo/dsb2018-image.png', import.meta.url));
    const proc = sts('predict', '--rough', '/nonexistent/rough', '--fine', '/nonexistent/fine', '--out', '/proc/nope/out', image);
    assert.equal(proc.code, 1);
    assert.match(proc.err, /^sts: error: --out: \/proc\/nope\/out: cannot create the folder \/proc\/nope \(ENOENT\); give a folder you can write to/m);
    const file = sts('predict', '--rough', '/nonexistent/rough', '--fine', '/nonexistent/fine', '--out', image, image);
    assert.match(file.err, /^sts: error: --out: .*dsb2018-image\.png: is a file, not a folder/m);
  });
});

describe('sts predict --shard', () => {
  it('splits the inputs into n disjoint parts that cover them all, stable when files are added', () => {
    const files = Array.from({ length: 200 }, (_, i) => `/cohort/slide-${i}.tif`);
    const parts = [0, 1, 2, 3].map((index) => shardOf(files, { index, count: 4 }));
    assert.deepEqual(parts.flat().sort(), [...files].sort(), 'every file in exactly one part');
    assert.ok(parts.every((p) => p.length > 30 && p.length < 70), `parts of ${parts.map((p) => p.length).join(', ')}`);
    const more = [...files, '/cohort/slide-new.tif'];
    assert.deepEqual(shardOf(more, { index: 2, count: 4 }).filter((f) => f !== '/cohort/slide-new.tif'), parts[2]);
    assert.deepEqual(parseShard('3/8'), { index: 3, count: 8 });
    for (const bad of ['8/8', '1', '-1/4', '1/0', 'a/b']) assert.throws(() => parseShard(bad), /--shard: must be i\/n with 0 <= i < n/);
    const r = sts('predict', '--rough', 'r', '--fine', 'f', '--out', tmpdir(), '--shard', '4/4', 'x.png');
    assert.equal(r.code, 1);
    assert.match(r.err, /^sts: error: --shard: must be i\/n with 0 <= i < n .*got '4\/4'/m);
  });
});
