/** `sts metrics --instances`, spawned as a user runs it, on label maps and masks written here. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { writeArrayBuffer } from 'geotiff';
import sharp from 'sharp';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function sts(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const W = 16;
const H = 6;

/** Labels on a W x H grid, rectangles painted in order: [label, x, y, width, height]. */
function paint(rects: readonly (readonly number[])[], data: Uint8Array | Uint16Array | Uint32Array): typeof data {
  for (const [label, x0, y0, w, h] of rects) {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data[y * W + x] = label;
  }
  return data;
}

// Truth: A (3, 4 x 4) and B (7, 4 x 4) touch side by side; C (9, 3 x 3) stands apart.
const TRUTH = [
  [3, 0, 0, 4, 4],
  [7, 4, 0, 4, 4],
  [9, 11, 1, 3, 3],
];

describe('sts metrics --instances', () => {
  it('scores label maps and masks per image and in the mean: a perfect map, a semantic mask merging a touching pair, a 32-bit map splitting one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-metrics-instances-'));
    const grey16 = (data: Uint16Array, file: string) =>
      sharp(data, { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toFile(join(dir, file));
    await grey16(paint(TRUTH, new Uint16Array(W * H)) as Uint16Array, 'truth.png');
    await grey16(paint(TRUTH.map(([k, ...r]) => [k * 1000, ...r]), new Uint16Array(W * H)) as Uint16Array, 'same.png');
    // The union as a 0/255 mask: A and B become one component.
    await sharp(paint(TRUTH.map(([, ...r]) => [255, ...r]), new Uint8Array(W * H)), { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(dir, 'union.png'));
    // A 32-bit map (labels past 65535): A cut into its upper and lower halves, B and C exact.
    const split = paint(
      [
        [70_000, 0, 0, 4, 2],
        [70_001, 0, 2, 4, 2],
        [80_000, 4, 0, 4, 4],
        [4_000_000_000, 11, 1, 3, 3],
      ],
      new Uint32Array(W * H),
    ) as Uint32Array;
    const tiff = await writeArrayBuffer(split, { width: W, height: H, BitsPerSample: [32], SampleFormat: [1], SamplesPerPixel: 1, PhotometricInterpretation: 1 });
    writeFileSync(join(dir, 'split.tif'), Buffer.from(tiff));

    const truth = join(dir, 'truth.png');
    const r = sts('metrics', '--instances', join(dir, 'same.png'), join(dir, 'union.png'), join(dir, 'split.tif'), '--truth', truth, truth, truth);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(lines[0], 'image,dsc,iou,precision,recall,tp,fp,fn,ap50,ap75,mean_ap,merged,split,true_objects,predicted_objects');
    // Every foreground pixel right in all three, so DSC 1; the objects differ:
    // same: 3 matched at IoU 1 -> AP 1 at every threshold.
    assert.equal(lines[1], 'same.png,1.000000,1.000000,1.000000,1.000000,41,0,0,1.000000,1.000000,1.000000,0.000000,0.000000,3,3');
    // union: components AB and C; AB has IoU 16/32 = 0.5 with A and with B, not > 0.5: TP 1, FP 1, FN 2 -> 1/4;
    // A and B are merged (2 of 3).
    assert.equal(lines[2], 'union.png,1.000000,1.000000,1.000000,1.000000,41,0,0,0.250000,0.250000,0.250000,0.666667,0.000000,3,2');
    // split: halves of A have IoU 0.5 with A: TP 2 (B, C), FP 2, FN 1 -> 2/5; A is split (1 of 3).
    assert.equal(lines[3], 'split.tif,1.000000,1.000000,1.000000,1.000000,41,0,0,0.400000,0.400000,0.400000,0.000000,0.333333,3,4');
    assert.match(r.out, /^# mean ± std over 3 images: dsc 1\.000 ± 0\.000/m);
    // Means over images: AP (1 + 0.25 + 0.4) / 3 = 0.55; merged (0 + 2/3 + 0) / 3 = 0.222; split 0.111.
    assert.match(r.out, /^# instances, mean ± std over 3 images: ap50 0\.550 ± 0\.\d{3}, ap75 0\.550 ± 0\.\d{3}, mean_ap 0\.550 ± 0\.\d{3}, merged 0\.222 ± 0\.\d{3}, split 0\.111 ± 0\.\d{3}$/m);
    assert.match(r.out, /^# objects: 9 true, 9 predicted; of all true objects 22\.2% merged, 11\.1% split$/m);
    assert.match(r.out, /^# read as semantic masks \(one value besides 0\), their 8-connected components taken as the objects: 1 of 3 predictions, 0 of 3 truths$/m);
  });

  it('without --instances prints only the semantic metrics, as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-metrics-semantic-'));
    await sharp(paint(TRUTH, new Uint16Array(W * H)), { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toFile(join(dir, 'truth.png'));
    const r = sts('metrics', join(dir, 'truth.png'), '--truth', join(dir, 'truth.png'));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.split('\n')[0], 'image,dsc,iou,precision,recall,tp,fp,fn');
    assert.doesNotMatch(r.out, /ap50|instances/);
  });

  it('names the file when a label map cannot be scored: another size, a colour image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-metrics-bad-'));
    await sharp(paint(TRUTH, new Uint16Array(W * H)), { raw: { width: W, height: H, channels: 1 } }).toColourspace('grey16').png().toFile(join(dir, 'truth.png'));
    await sharp(new Uint16Array(8 * 8), { raw: { width: 8, height: 8, channels: 1 } }).toColourspace('grey16').png().toFile(join(dir, 'small.png'));
    await sharp(Uint8Array.from({ length: W * H * 3 }, (_, i) => (i % 3) * 40), { raw: { width: W, height: H, channels: 3 } }).png().toFile(join(dir, 'colour.png'));
    const size = sts('metrics', '--instances', join(dir, 'small.png'), '--truth', join(dir, 'truth.png'));
    assert.equal(size.code, 1);
    assert.match(size.err, /prediction .*small\.png: is 8 x 8 but truth .*truth\.png is 16 x 6; they must be the same size/);
    const colour = sts('metrics', '--instances', join(dir, 'colour.png'), '--truth', join(dir, 'truth.png'));
    assert.equal(colour.code, 1);
    assert.match(colour.err, /colour\.png: cannot read this label map \(it is a colour image .*\); give a one-channel PNG or TIFF of integer labels/);
    assert.doesNotMatch(colour.err, /\n\s+at /, 'no stack trace');
  });
});
