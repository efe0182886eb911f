import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { makeImagesMasks, writeRaw } from '../support/datasets.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const demoImage = fileURLToPath(new URL('../../../assets/demo/dsb2018-image.png', import.meta.url));
const demoMask = fileURLToPath(new URL('../../../assets/demo/dsb2018-mask.png', import.meta.url));
const trainSet = fileURLToPath(new URL('../../../assets/demo/train', import.meta.url));
const fixtureModel = (name: string) => join(FIXTURE_MODELS, name);

function sts(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sts command', () => {
  it('lists its commands in --help', () => {
    const r = sts('--help');
    assert.equal(r.code, 0);
    for (const c of ['demo', 'metrics']) assert.match(r.out, new RegExp(`^  ${c} `, 'm'));
  });

  it('runs the demo on the bundled real image: StS beats the baseline and every output is written', () => {
    const out = mkdtempSync(join(tmpdir(), 'sts-demo-'));
    const r = sts('demo', '--stand-in', '--out', out);
    assert.equal(r.code, 0, r.err);
    // The first number after the row's name (names are padded with spaces; numbers follow in the METRIC_NAMES order).
    const dsc = (label: string) => Number(/\s(\d\.\d{3})\s/.exec(r.out.split('\n').find((l) => l.startsWith(label))!)![1]);
    const baseline = dsc('baseline');
    const ours = dsc('Segment-then-Segment');
    assert.ok(ours > baseline + 0.1, `StS ${ours} vs baseline ${baseline}`);
    assert.deepEqual(readdirSync(out).sort(), ['mask-baseline.png', 'mask-sts.png', 'overlay.png']);
  });

  it('shows the product first: the pretrained pair on the held-out image, as sts predict, scored against the truth', () => {
    const out = mkdtempSync(join(tmpdir(), 'sts-demo-pair-'));
    const r = sts('demo', '--no-slide', '--out', out);
    assert.equal(r.code, 0, r.err);
    const row = r.out.split('\n').find((l) => l.startsWith('dsb2018-image.png'));
    assert.ok(row, r.out);
    // image, size (696 x 520), objects, crops, seconds, then DSC, IoU, precision, recall.
    const cells = row.split(/\s{2,}/).slice(1);
    assert.equal(cells[0], '696 x 520');
    const [objects, , , dsc] = cells.slice(1).map(Number);
    assert.ok(objects > 100, `${objects} nuclei found; the image has about 200`);
    assert.ok(dsc > 0.8, `DSC ${dsc}; the pair scores 0.88 on this image`);
    assert.match(r.out, /first result after \d+\.\d s/);
    assert.match(r.out, /sts demo --train/);
    for (const file of ['overlay.png', 'labels.png', 'objects.geojson', 'objects.csv', 'mask.png']) assert.ok(existsSync(join(out, 'dsb2018-image', file)), file);
    assert.ok(!existsSync(join(out, 'mosaic-input')), '--no-slide made the mosaic');
    rmSync(out, { recursive: true });
  });

  it('trains both demo networks, saves them, and a rerun reuses them', () => {
    const out = mkdtempSync(join(tmpdir(), 'sts-demo-train-'));
    const first = sts('demo', '--train', '--epochs', '2', '--features', '2', '--size', '32', '--out', out);
    assert.equal(first.code, 0, first.err);
    for (const stage of ['rough', 'fine']) {
      assert.ok(existsSync(join(out, 'runs', stage, 'best', 'model.json')), stage);
      assert.ok(existsSync(join(out, 'runs', stage, 'split.json')), stage);
    }
    assert.match(first.err, /epoch 2\/2 .*val DSC/);
    assert.match(first.out, /^Segment-then-Segment \(\d+ crops\)/m);
    const again = sts('demo', '--train', '--epochs', '2', '--features', '2', '--size', '32', '--out', out);
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /had already run all 2 epochs/);
    assert.doesNotMatch(again.err, /epoch 1\/2/);
  });

  it('trains a rough network at a fixed scale and records it, so that predict tiles every image at that scale', () => {
    const out = mkdtempSync(join(tmpdir(), 'sts-fixed-scale-'));
    const r = sts('train', '--data', trainSet, '--size', '32', '--epochs', '1', '--batch', '4', '--features', '2', '--rough-input', 'fixed-scale', '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /rough input: 32 x 32 windows of the images downscaled \d+\.\d+x/);
    const sts_ = JSON.parse(readFileSync(join(out, 'best', 'model.json'), 'utf8')).userDefinedMetadata.sts;
    assert.equal(sts_.roughInput, 'fixed-scale');
    assert.equal(sts_.scale.factorX, sts_.scale.factorY, 'one factor for both axes');
    assert.ok(sts_.scale.factorX > 1);
    const fine = sts('train', '--data', trainSet, '--stage', 'fine', '--rough-input', 'fixed-scale', '--out', join(out, 'fine'));
    assert.match(fine.err, /--rough-input: fixed-scale applies to the rough stage only/);
  });

  it('computes metrics of masks, a perfect prediction scoring 1', () => {
    const r = sts('metrics', demoMask, '--truth', demoMask);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^dsb2018-mask\.png,1\.000000,1\.000000,1\.000000,1\.000000,\d+,0,0$/m);
  });

  it('sts metrics reads masks by the same rule as training: a 0/1 PNG and a 16-bit label map equal their 0/255 mask', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-masks-'));
    const w = 8;
    const h = 6;
    const labels = new Uint16Array(w * h);
    labels.fill(1, 9, 12);
    labels.fill(300, 30, 35);
    const binary = Uint8Array.from(labels, (v) => (v ? 1 : 0));
    await sharp(Uint8Array.from(binary, (v) => v * 255), { raw: { width: w, height: h, channels: 1 } }).png().toFile(join(dir, 'm255.png'));
    await sharp(binary, { raw: { width: w, height: h, channels: 1 } }).png().toFile(join(dir, 'm01.png'));
    await writeRaw(join(dir, 'labels16.png'), labels, w, h, 1);
    const r = sts('metrics', join(dir, 'm01.png'), join(dir, 'labels16.png'), '--truth', join(dir, 'm255.png'), join(dir, 'm255.png'));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^m01\.png,1\.000000,1\.000000,1\.000000,1\.000000,8,0,0$/m);
    assert.match(r.out, /^labels16\.png,1\.000000,1\.000000,1\.000000,1\.000000,8,0,0$/m);
  });

  it('sts train decodes every file before training: a truncated image is named; all-empty masks get a warning', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sts-decode-'));
    const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
    await makeImagesMasks(join(root, 'bad'), ids);
    const png = readFileSync(join(root, 'bad', 'images', 's3.png'));
    writeFileSync(join(root, 'bad', 'images', 's3.png'), png.subarray(0, png.length - 40));
    const bad = sts('train', '--data', join(root, 'bad'), '--size', '16', '--features', '2', '--epochs', '1', '--batch', '4', '--out', join(root, 'run-bad'));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^sts: error: .*bad: 1 problem in this dataset; fix or remove these files and run again:\n\s+.*images\/s3\.png: cannot read this image/m);
    assert.doesNotMatch(bad.err, /epoch 1\//, 'stopped before training');
    await makeImagesMasks(join(root, 'empty'), ids);
    for (const id of ids) await writeRaw(join(root, 'empty', 'masks', `${id}.png`), new Uint8Array(24 * 20), 24, 20, 1);
    const empty = sts('train', '--data', join(root, 'empty'), '--size', '16', '--features', '2', '--epochs', '1', '--batch', '4', '--out', join(root, 'run-empty'));
    assert.equal(empty.code, 0, empty.err);
    assert.match(empty.err, /warning: every one of the 10 masks of .*empty is empty: the networks will learn to find nothing/);
  });

  it('sts evaluate names an image without its mask instead of leaving it out of the mean, and writes nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sts-evaluate-'));
    await makeImagesMasks(join(root, 'data'), ['a', 'b', 'c']);
    rmSync(join(root, 'data', 'masks', 'b.png'));
    const out = join(root, 'eval');
    const r = sts('evaluate', '--rough', fixtureModel('cells-rough'), '--fine', fixtureModel('cells-fine'), '--data', join(root, 'data'), '--out', out);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /1 problem in this dataset; fix or remove these files and run again:\n\s+.*images\/b\.png: has no mask/);
    assert.ok(!existsSync(join(out, 'per_image.csv')), 'no partial result');
    writeFileSync(join(root, 'data', 'masks', 'b.png'), readFileSync(join(root, 'data', 'masks', 'a.png')));
    const ok = sts('evaluate', '--rough', fixtureModel('cells-rough'), '--fine', fixtureModel('cells-fine'), '--data', join(root, 'data'), '--out', out);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.err + ok.out, /evaluating all 3 images/);
    assert.equal(readFileSync(join(out, 'per_image.csv'), 'utf8').trim().split('\n').length, 1 + 3 * 2);
  });

  it('sts compare writes the paired table of two evaluations and names a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-compare-'));
    const header = 'size,method,image,dsc,iou,precision,recall,ms\n';
    writeFileSync(join(dir, 'a.csv'), `${header}64,sts,p,0.5,0.4,0.6,0.5,1\n64,sts,q,0.6,0.5,0.7,0.6,1\n`);
    writeFileSync(join(dir, 'b.csv'), `${header}64,sts,q,0.8,0.5,0.7,0.6,1\n64,sts,p,0.6,0.4,0.6,0.5,1\n`);
    const ok = sts('compare', join(dir, 'a.csv'), join(dir, 'b.csv'), '--out', join(dir, 'cmp.md'));
    assert.equal(ok.code, 0, ok.err);
    assert.match(readFileSync(join(dir, 'cmp.md'), 'utf8'), /\| 64 \| StS \| dsc \| 0\.550 \| 0\.700 \| \+0\.150 \[\+0\.100, \+0\.200\] \| 2 \|/);
    const missing = sts('compare', join(dir, 'a.csv'), join(dir, 'nope.csv'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /nope\.csv: cannot read it \(ENOENT\)/);
    rmSync(dir, { recursive: true });
  });

  it('reports bad arguments and files in one line naming them, without a stack trace', () => {
    const cases: [string[], RegExp][] = [
      [['demo', '--size', '0'], /--size: must be a positive integer, got '0'/],
      [['demo', '--drop-policy', 'maybe'], /--drop-policy: must be one of reference, clip; got 'maybe'/],
      [['demo', '--image', '/nonexistent/x.png'], /\/nonexistent\/x\.png: cannot read this image/],
      [['demo', '--mask', demoImage.replace('image', 'nope')], /dsb2018-nope\.png: cannot read this image/],
      [['metrics', demoMask, demoMask, '--truth', demoMask], /--truth: got 1 truth masks for 2 predictions/],
      [['train', '--data', '/nonexistent/set', '--out', '/tmp/x'], /data: \/nonexistent\/set is not a folder/],
      [['train', '--data', trainSet, '--size', '40', '--out', join(tmpdir(), 'sts-never')], /--size: must be a multiple of 16/],
      [['train', '--data', trainSet, '--model', 'vgg', '--out', '/tmp/x'], /--model: must be one of unet, resunetpp, deeplabv3plus; got 'vgg'/],
      [['train', '--data', trainSet, '--lr', '-1', '--out', '/tmp/x'], /--lr: must be a positive number, got '-1'/],
    ];
    const dir = mkdtempSync(join(tmpdir(), 'sts-bad-'));
    const notImage = join(dir, 'notes.png');
    writeFileSync(notImage, 'this is text');
    cases.push([['metrics', notImage, '--truth', demoMask], /notes\.png: cannot read this image/]);
    for (const [args, message] of cases) {
      const r = sts(...args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.err, message, args.join(' '));
      assert.doesNotMatch(r.err, /^\s+at /m, 'no stack trace');
    }
    assert.ok(!existsSync(join(dir, 'notes.png.tmp')));
  });
});
