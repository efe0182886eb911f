import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { SliceSample } from '../../src/datasets/dataset.js';
import { DatasetError } from '../../src/errors.js';
import { readImage, readMask } from '../../src/io/image-files.js';
import { detectLayout, openDataset } from '../../src/datasets/open-dataset.js';
import { validateDataset } from '../../src/datasets/validate.js';
import { makeAvt, makeImagesMasks, makeStage1, pattern, tempDir, writeRaw } from '../support/datasets.js';

describe('image files of every kind', () => {
  it('read 16-bit PNGs scaled to 8 bits, gray replicated, RGBA without alpha; 16-bit label masks keep small labels', async () => {
    const dir = tempDir();
    const g16 = Uint16Array.from([0, 1, 256, 32768, 65535, 512]);
    await writeRaw(join(dir, 'g16.png'), g16, 3, 2, 1);
    const rgb = await readImage(join(dir, 'g16.png'));
    assert.equal(rgb.channels, 3);
    assert.deepEqual([...rgb.data].filter((_, i) => i % 3 === 0), [0, 0, 1, 128, 255, 2]);
    assert.deepEqual([...(await readMask(join(dir, 'g16.png'), { rule: 'half' })).data], [0, 0, 0, 1, 1, 0], 'half of 65535');
    assert.deepEqual([...(await readMask(join(dir, 'g16.png'), { rule: 'nonzero' })).data], [0, 1, 1, 1, 1, 1], 'labels 1, 256, ...');
    // The default every command uses: lossless masks are foreground wherever non-zero (a 16-bit label map too).
    assert.deepEqual([...(await readMask(join(dir, 'g16.png'))).data], [0, 1, 1, 1, 1, 1], 'default: auto');
    await writeRaw(join(dir, 'rgba.png'), Uint8Array.from([10, 20, 30, 0, 40, 50, 60, 128]), 2, 1, 4);
    assert.deepEqual([...(await readImage(join(dir, 'rgba.png'))).data], [10, 20, 30, 40, 50, 60]);
    await writeRaw(join(dir, 'one.png'), Uint8Array.from([0, 1, 1, 0]), 4, 1, 1);
    assert.deepEqual([...(await readMask(join(dir, 'one.png'), { rule: 'auto' })).data], [0, 1, 1, 0], '0/1 PNG under auto');
  });

  it('threshold JPEG masks at 128 despite compression noise', async () => {
    const dir = tempDir();
    const { mask } = pattern(32, 32, [8, 8, 16, 16]);
    await writeRaw(join(dir, 'm.jpg'), mask.map((v) => v * 255), 32, 32, 1);
    const read = await readMask(join(dir, 'm.jpg'), { rule: 'auto' });
    const wrong = read.data.reduce((n, v, i) => n + (v !== mask[i] ? 1 : 0), 0);
    assert.equal(wrong, 0);
  });
});

describe('dataset layouts', () => {
  it('stage1_train: one folder per id, nucleus PNGs merged by union', async () => {
    const root = tempDir();
    const unions = await makeStage1(root, ['b', 'a']);
    assert.equal(await detectLayout(root), 'dsb2018-stage1');
    const ds = await openDataset(root);
    await validateDataset(ds);
    assert.deepEqual(ds.samples.map((s) => s.id), ['a', 'b']);
    assert.equal(ds.kind, 'cells');
    for (const s of ds.samples) {
      assert.equal(s.kind, 'instances');
      const { image, mask } = await ds.load(s);
      assert.equal(image.channels, 3, 'RGBA read as RGB');
      assert.deepEqual(mask.data, unions.get(s.id));
    }
  });

  it('compact DSB2018, Kvasir-SEG (JPEG masks) and a generic images/masks folder', async () => {
    const dsb = tempDir();
    await makeImagesMasks(dsb, ['x', 'y']);
    mkdirSync(join(dsb, 'instances'));
    const kvasir = tempDir();
    await makeImagesMasks(kvasir, ['p1', 'p2', 'p3'], { jpeg: true });
    const generic = tempDir();
    await makeImagesMasks(generic, ['g']);
    // A generic set may mix formats (JPEG photo, 0/1 PNG mask); names match without extension.
    rmSync(join(generic, 'images', 'g.png'));
    await writeRaw(join(generic, 'images', 'g.jpg'), pattern(24, 20, [0, 0, 1, 1]).image, 24, 20, 3);
    await writeRaw(join(generic, 'masks', 'g.png'), pattern(24, 20, [2, 3, 8, 6]).mask, 24, 20, 1);
    const expected = pattern(24, 20, [2, 3, 8, 6]).mask;
    for (const [root, layout, kind] of [[dsb, 'dsb2018', 'cells'], [kvasir, 'kvasir-seg', 'polyp'], [generic, 'images-masks', 'generic']] as const) {
      const ds = await openDataset(root);
      assert.equal(ds.layout, layout);
      assert.equal(ds.kind, kind);
      assert.deepEqual(ds.splitPolicy, { ratios: [0.8, 0.1, 0.1], by: 'sample' });
      await validateDataset(ds);
      const { image, mask } = await ds.load(ds.samples[0]);
      assert.deepEqual([image.width, image.height, image.channels], [24, 20, 3]);
      assert.deepEqual(mask.data, expected, layout);
    }
  });

  it('AVT: axial slices of CT volumes (NRRD or NIfTI) with .seg.nrrd labels, windowed, empty slices left out', async () => {
    const root = tempDir();
    const vols = makeAvt(root, ['D1', 'D2', 'D3'], { nifti: ['D2'] });
    const ds = await openDataset(root);
    assert.equal(ds.layout, 'avt');
    assert.equal(ds.channels, 1);
    assert.deepEqual(ds.splitPolicy, { ratios: [0.7, 0.2, 0.1], by: 'group' });
    await validateDataset(ds);
    assert.deepEqual(ds.samples.map((s) => s.id), ['D1-1', 'D1-2', 'D1-3', 'D2-1', 'D2-2', 'D2-3', 'D3-1', 'D3-2', 'D3-3']);
    const s = ds.samples[4] as SliceSample;
    assert.deepEqual([s.group, s.slice], ['D2', 2]);
    const { image, mask } = await ds.load(s);
    const { ct, labels } = vols.get('D2')!;
    const plane = 10 * 8;
    assert.ok(image.data instanceof Float32Array);
    for (let i = 0; i < plane; i++) {
      const hu = Math.min(500, Math.max(200, ct[2 * plane + i]));
      assert.ok(Math.abs(image.data[i] - ((hu - 200) / 300 - 0.1)) < 1e-6);
      assert.equal(mask.data[i], labels[2 * plane + i]);
    }
    const all = await openDataset(root, { keepEmptySlices: true });
    assert.equal(all.samples.length, 15);
  });

  it('cells / polyp presets resolve under STS_DATA_DIR, and say what to do when the folder is absent', async () => {
    const dataDir = tempDir();
    await makeImagesMasks(join(dataDir, 'kvasir-seg'), ['k'], { jpeg: true });
    const saved = process.env.STS_DATA_DIR;
    process.env.STS_DATA_DIR = dataDir;
    try {
      const ds = await openDataset('polyp');
      assert.equal(ds.layout, 'kvasir-seg');
      assert.equal(ds.root, join(dataDir, 'kvasir-seg'));
      await assert.rejects(openDataset('cells'), /data: preset 'cells' expects its dataset at .*dsb2018, which does not exist; give the dataset folder instead/);
    } finally {
      if (saved === undefined) delete process.env.STS_DATA_DIR;
      else process.env.STS_DATA_DIR = saved;
    }
  });
});

describe('dataset validation before training', () => {
  const problemsOf = async (root: string): Promise<DatasetError> => {
    const ds = await openDataset(root);
    const error = await validateDataset(ds).then(
      () => assert.fail('validation passed'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof DatasetError, String(error));
    return error;
  };

  it('an image without its mask (and a mask without its image)', async () => {
    const root = tempDir();
    await makeImagesMasks(root, ['a', 'b', 'c']);
    rmSync(join(root, 'masks', 'b.png'));
    renameSync(join(root, 'images', 'c.png'), join(root, 'images', 'd.png'));
    const e = await problemsOf(root);
    assert.match(e.message, /images\/b\.png: has no mask; expected .*masks\/b\.<png\|jpg\|tif>/);
    assert.match(e.message, /images\/d\.png: has no mask/);
    assert.match(e.message, /masks\/c\.png: has no image/);
    assert.match(e.message, /3 problems in this dataset; fix or remove these files/);
  });

  it('mismatched image and mask sizes, in 2-D and in volumes', async () => {
    const root = tempDir();
    await makeImagesMasks(root, ['a']);
    await writeRaw(join(root, 'masks', 'a.png'), new Uint8Array(5 * 4), 5, 4, 1);
    const e = await problemsOf(root);
    assert.match(e.message, /masks\/a\.png: mask is 5 x 4 but its image .*images\/a\.png is 24 x 20; they must be the same size/);
    const avt = tempDir();
    makeAvt(avt, ['D1']);
    makeAvt(join(avt, 'other'), ['D1'], { d: 6 });
    renameSync(join(avt, 'other', 'D1', 'D1.nrrd'), join(avt, 'D1', 'D1.nrrd'));
    const v = await problemsOf(avt);
    assert.match(v.message, /D1\.seg\.nrrd: mask is 10 x 8 x 5 but its image .*D1\.nrrd is 10 x 8 x 6/);
  });

  it('an unreadable file, with every problem counted and the first few quoted', async () => {
    const root = tempDir();
    const ids = Array.from({ length: 8 }, (_, i) => `i${i}`);
    await makeImagesMasks(root, ids);
    for (const id of ids) writeFileSync(join(root, 'images', `${id}.png`), 'not a png');
    const e = await problemsOf(root);
    assert.equal(e.problems.length, 8);
    assert.match(e.message, /images\/i0\.png: cannot read this image \(.*\); give a PNG, JPEG or TIFF file/);
    assert.match(e.message, /\.\.\. and 3 more/);
  });

  it('an empty dataset, and a folder of unknown layout', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'images'));
    mkdirSync(join(root, 'masks'));
    const e = await problemsOf(root);
    assert.match(e.message, new RegExp(`${root}: 1 problem .*no samples found \\(layout images-masks\\)`, 's'));
    await assert.rejects(openDataset(tempDir()), /cannot tell this dataset's layout; expected images\/ and masks\//);
    await assert.rejects(openDataset(join(root, 'nope')), /nope is not a folder; give a dataset folder or one of the presets cells, polyp/);
  });

  it('AVT label volumes without their CT', async () => {
    const root = tempDir();
    makeAvt(root, ['D1', 'D2']);
    rmSync(join(root, 'D2', 'D2.nrrd'));
    const e = await problemsOf(root);
    assert.match(e.message, /D2\.seg\.nrrd: has no image volume; expected .*D2\.nrrd \(or \.nii\.gz \/ \.nii\) beside it/);
  });
});
