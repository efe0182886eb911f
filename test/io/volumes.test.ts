import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { AORTA_WINDOW, windowCt } from '../../src/datasets/ct-window.js';
import { readNifti } from '../../src/io/nifti.js';
import { encodeNrrd, parseNrrd, readNrrd } from '../../src/io/nrrd.js';
import { readVolume } from '../../src/io/read-volume.js';
import { axialSlice } from '../../src/io/volume.js';
import { encodeNifti } from '../support/nifti-writer.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'sts-vol-'));
const ramp = (n: number) => Int16Array.from({ length: n }, (_, i) => i * 7 - 100);

describe('NRRD', () => {
  it('reads gzip and raw volumes with spacing, and slices them axially', async () => {
    const dir = tmp();
    const data = ramp(4 * 3 * 2);
    const volume = { width: 4, height: 3, depth: 2, data, spacing: [0.5, 0.5, 3] as [number, number, number] };
    for (const encoding of ['gzip', 'raw'] as const) {
      const path = join(dir, `v-${encoding}.nrrd`);
      writeFileSync(path, encodeNrrd(volume, { encoding }));
      const v = await readVolume(path);
      assert.deepEqual([v.width, v.height, v.depth, v.components], [4, 3, 2, 1]);
      assert.deepEqual(v.spacing, [0.5, 0.5, 3]);
      assert.ok(v.data instanceof Int16Array);
      assert.deepEqual([...v.data], [...data]);
      const s = axialSlice(v, 1);
      assert.deepEqual([s.width, s.height], [4, 3]);
      assert.deepEqual([...s.data], [...data.subarray(12, 24)]);
    }
  });

  it('reads Slicer segmentations with several layers and segment fields', async () => {
    // 2 layers of 2 x 2 x 1: layer 0 holds segment A (1) and B (2); layer 1 holds C (1), overlapping A.
    const data = Uint8Array.from([1, 1, 2, 0, 0, 1, 0, 0]);
    const bytes = encodeNrrd(
      { width: 2, height: 2, depth: 1, components: 2, data, spacing: [1, 1, 1] },
      {
        keyValues: {
          Segment0_ID: 'a', Segment0_Name: 'aorta', Segment0_Layer: '0', Segment0_LabelValue: '1',
          Segment1_ID: 'b', Segment1_Name: 'branch', Segment1_Layer: '0', Segment1_LabelValue: '2',
          Segment2_ID: 'c', Segment2_Name: 'calcium', Segment2_Layer: '1', Segment2_LabelValue: '1',
        },
      },
    );
    const v = await parseNrrd(bytes, 'seg.nrrd');
    assert.equal(v.components, 2);
    assert.deepEqual(v.segments.map((s) => [s.name, s.layer, s.labelValue]), [['aorta', 0, 1], ['branch', 0, 2], ['calcium', 1, 1]]);
    assert.deepEqual([...axialSlice(v, 0, 0).data], [1, 2, 0, 0]);
    assert.deepEqual([...axialSlice(v, 0, 1).data], [1, 0, 1, 0]);
  });

  it('reads big-endian data, byte skip -1 and a detached header', async () => {
    const dir = tmp();
    const be = Buffer.from([0, 1, 1, 0, 0xff, 0xfe]);
    const header = 'NRRD0004\ntype: short\ndimension: 3\nsizes: 3 1 1\nendian: big\nencoding: raw\nbyte skip: -1\n\n';
    writeFileSync(join(dir, 'be.nrrd'), Buffer.concat([Buffer.from(header), Buffer.from([9, 9]), be]));
    assert.deepEqual([...(await readNrrd(join(dir, 'be.nrrd'))).data], [1, 256, -2]);
    writeFileSync(join(dir, 'd.raw.gz'), gzipSync(Buffer.from([5, 6])));
    writeFileSync(join(dir, 'd.nhdr'), 'NRRD0004\ntype: uchar\ndimension: 2\nsizes: 2 1\nencoding: gzip\ndata file: d.raw.gz\n');
    const d = await readVolume(join(dir, 'd.nhdr'));
    assert.deepEqual([d.width, d.height, d.depth, ...d.data], [2, 1, 1, 5, 6]);
  });

  it('names the file in every error and says what to do', async () => {
    const dir = tmp();
    const write = (name: string, text: string | Buffer) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    await assert.rejects(readNrrd(join(dir, 'missing.nrrd')), /missing\.nrrd: cannot read this file.*check the path/);
    await assert.rejects(readNrrd(write('a.nrrd', 'P5\n')), /a\.nrrd: not an NRRD file/);
    await assert.rejects(
      readNrrd(write('b.nrrd', 'NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n\n\x01\x02')),
      /b\.nrrd: NRRD data holds 2 bytes but .* need 8; the file is truncated/,
    );
    await assert.rejects(
      readNrrd(write('c.nrrd', 'NRRD0004\ntype: uchar\ndimension: 1\nsizes: 2\nencoding: bzip2\n\nxx')),
      /c\.nrrd: .*not a 2-D or 3-D volume/,
    );
    await assert.rejects(
      readNrrd(write('d.nrrd', 'NRRD0004\ntype: uchar\ndimension: 2\nsizes: 2 1\nencoding: bzip2\n\nxx')),
      /d\.nrrd: NRRD encoding 'bzip2' is not supported; save it with raw or gzip/,
    );
    await assert.rejects(
      readNrrd(write('e.nrrd', 'NRRD0004\ntype: uchar\ndimension: 2\nsizes: 2 1\nencoding: gzip\n\nnot gzip')),
      /e\.nrrd: the NRRD's gzip data is damaged/,
    );
  });
});

describe('NIfTI-1', () => {
  it('reads .nii and .nii.gz, either endianness, as the same volume', async () => {
    const dir = tmp();
    const data = ramp(3 * 2 * 4);
    for (const [name, gzip, bigEndian] of [['a.nii', false, false], ['b.nii.gz', true, false], ['c.nii.gz', true, true]] as const) {
      writeFileSync(join(dir, name), encodeNifti({ width: 3, height: 2, depth: 4, data, spacing: [0.8, 0.8, 2.5], gzip, bigEndian }));
      const v = await readVolume(join(dir, name));
      assert.deepEqual([v.width, v.height, v.depth], [3, 2, 4], name);
      assert.ok(v.data instanceof Int16Array, name);
      assert.deepEqual([...v.data], [...data], name);
      assert.deepEqual(v.spacing.map((s) => Math.round(s * 100) / 100), [0.8, 0.8, 2.5], name);
      assert.deepEqual([...axialSlice(v, 3).data], [...data.subarray(18, 24)], name);
    }
  });

  it('applies scl_slope and scl_inter as float32', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 's.nii.gz'), encodeNifti({ width: 2, height: 1, depth: 1, data: Uint8Array.from([0, 10]), slope: 2, inter: -1024, gzip: true }));
    const v = await readNifti(join(dir, 's.nii.gz'));
    assert.ok(v.data instanceof Float32Array);
    assert.deepEqual([...v.data], [-1024, -1004]);
  });

  it('names the file when it is not NIfTI', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'x.nii'), Buffer.alloc(400));
    await assert.rejects(readNifti(join(dir, 'x.nii')), /x\.nii: not a NIfTI file/);
    await assert.rejects(readVolume(join(dir, 'x.png')), /x\.png: not a volume file by its name/);
  });
});

describe('CT window', () => {
  it('clamps to 200..500 HU, scales to 0..1 and subtracts 0.1', () => {
    const out = windowCt({ width: 5, height: 1, data: Int16Array.from([-1000, 200, 350, 500, 3000]) }, AORTA_WINDOW);
    assert.deepEqual([...out.data].map((v) => Math.round(v * 1e6) / 1e6), [-0.1, -0.1, 0.4, 0.9, 0.9]);
    assert.equal(out.channels, 1);
  });
});
