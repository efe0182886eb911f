import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeNrrd } from '../../src/io/nrrd.js';
import { openDataset } from '../../src/datasets/open-dataset.js';
import { SEMI_SYNTHETIC_MARKER, buildSemiSyntheticAorta, isCompleteSemiSyntheticSet } from '../../src/datasets/semi-synthetic-aorta.js';
import { synthesizeCt } from '../../src/datasets/semi-synthetic-ct.js';
import type { Volume } from '../../src/io/volume.js';

const W = 64;
const H = 56;
const D = 8;
const SPACING: [number, number, number] = [4, 4, 3];

/** An aorta-like tube of radius 5 px drifting right along z; slice 0 empty. */
function tubeLabels(): Volume<Uint8Array> {
  const data = new Uint8Array(W * H * D);
  for (let z = 1; z < D; z++) {
    const cx = 28 + z;
    const cy = 30;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= 25) data[z * W * H + y * W + x] = 1;
  }
  return { width: W, height: H, depth: D, data, spacing: SPACING };
}

/** AVT-style labels of patients D1 and D2, and where a set built from them should go. */
function twoPatients(): { labelsRoot: string; out: string } {
  const labelsRoot = mkdtempSync(join(tmpdir(), 'sts-avt-labels-'));
  for (const p of ['D1', 'D2']) {
    mkdirSync(join(labelsRoot, p));
    writeFileSync(join(labelsRoot, p, `${p}.seg.nrrd`), encodeNrrd(tubeLabels()));
  }
  return { labelsRoot, out: join(mkdtempSync(join(tmpdir(), 'sts-avt-built-')), 'aorta') };
}

describe('semi-synthetic CT', () => {
  it('paints a deterministic int16 volume with contrast-filled aorta inside a body of soft tissue, air outside', () => {
    const labels = tubeLabels();
    const a = synthesizeCt(labels, { seed: 3 });
    const b = synthesizeCt(labels, { seed: 3 });
    const c = synthesizeCt(labels, { seed: 4 });
    assert.ok(a.data instanceof Int16Array);
    assert.deepEqual([a.width, a.height, a.depth, a.spacing], [W, H, D, SPACING]);
    assert.deepEqual(a.data, b.data);
    assert.notDeepEqual(a.data, c.data);
    // The lumen's core (away from the blurred wall and any calcification) sits in the aorta window 200..500 HU.
    const core: number[] = [];
    for (let z = 1; z < D; z++) for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]]) core.push(a.data[z * W * H + (30 + dy) * W + 28 + z + dx]);
    const mean = core.reduce((s, v) => s + v, 0) / core.length;
    assert.ok(mean > 220 && mean < 480, `aorta core mean ${mean} HU`);
    // The corners of a 256 x 224 mm field are outside a body of at most ~370 x 260 mm centred near the aorta.
    assert.ok(a.data[0] < -850, `corner ${a.data[0]} HU should be air`);
    // Most of the body is soft tissue or fat, darker than the lumen in the aorta window.
    const slice = a.data.subarray(4 * W * H, 5 * W * H);
    let below = 0;
    for (let i = 0; i < slice.length; i++) if (slice[i] < 200) below++;
    assert.ok(below > 0.8 * slice.length);
  });

  it('builds an AVT-layout set that the AVT reader opens with the real labels as masks; reruns keep finished patients', async () => {
    const { labelsRoot, out } = twoPatients();
    const lines: string[] = [];
    await buildSemiSyntheticAorta(labelsRoot, out, { log: (l) => lines.push(l) });
    assert.equal(lines.length, 2);
    assert.ok(await isCompleteSemiSyntheticSet(out));
    assert.deepEqual(readdirSync(join(out, 'D1')).sort(), ['.sts-output', 'D1.nrrd', 'D1.seg.nrrd'], 'the volumes, in a folder marked as written by sts');

    const ds = await openDataset(out);
    assert.equal(ds.layout, 'avt');
    assert.equal(ds.kind, 'aorta');
    assert.equal(ds.samples.length, 2 * (D - 1), 'the empty slice 0 is left out, as the reference does');
    const sample = ds.samples.find((s) => s.id === 'D2-3');
    assert.ok(sample);
    const loaded = await ds.load(sample);
    const truth = tubeLabels().data.subarray(3 * W * H, 4 * W * H);
    assert.deepEqual([...loaded.mask.data].map((v) => (v ? 1 : 0)), [...truth]);

    const before = statSync(join(out, 'D1', 'D1.nrrd')).mtimeMs;
    lines.length = 0;
    await buildSemiSyntheticAorta(labelsRoot, out, { log: (l) => lines.push(l) });
    assert.equal(lines.length, 0, 'nothing is painted again');
    assert.equal(statSync(join(out, 'D1', 'D1.nrrd')).mtimeMs, before);
  });

  it('an interrupted build keeps finished patients, leaves no partial one and no completion marker, and resumes', async () => {
    const { labelsRoot, out } = twoPatients();
    const controller = new AbortController();
    // Ctrl-C while the first patient is reported: the second is never started.
    await assert.rejects(buildSemiSyntheticAorta(labelsRoot, out, { signal: controller.signal, log: () => controller.abort() }));
    assert.deepEqual(readdirSync(out), ['D1']);
    assert.equal(await isCompleteSemiSyntheticSet(out), false);
    const lines: string[] = [];
    await buildSemiSyntheticAorta(labelsRoot, out, { log: (l) => lines.push(l) });
    assert.equal(lines.length, 1);
    assert.match(lines[0], /D2 \(2\/2\)/);
    assert.deepEqual(readdirSync(out).sort(), ['D1', 'D2', SEMI_SYNTHETIC_MARKER]);
  });

  it('says what to give when the folder holds no label volumes', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sts-avt-empty-'));
    await assert.rejects(buildSemiSyntheticAorta(empty, join(empty, 'out')), /no <patient>\.seg\.nrrd label volumes/);
  });
});
