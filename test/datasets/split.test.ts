import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Dataset, Sample } from '../../src/datasets/dataset.js';
import { SPLIT_FILE, loadOrCreateSplit, makeSplit, splitSamples } from '../../src/datasets/split.js';
import { tempDir } from '../support/datasets.js';

function fakeDataset(ids: string[], by: 'sample' | 'group' = 'sample', group = (id: string) => id): Dataset {
  const samples: Sample[] = ids.map((id) => ({ kind: 'image', id, group: group(id), imagePath: `${id}.png`, maskPath: `${id}.png` }));
  return {
    root: '/data/x',
    layout: 'images-masks',
    kind: 'generic',
    channels: 3,
    samples,
    splitPolicy: by === 'sample' ? { ratios: [0.8, 0.1, 0.1], by } : { ratios: [0.7, 0.2, 0.1], by },
    problems: [],
    load: () => Promise.reject(new Error('not loaded in this test')),
  };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `s${String(i).padStart(4, '0')}`);

describe('splits', () => {
  it('are 80/10/10 by sample, seeded, disjoint and complete', () => {
    const ds = fakeDataset(ids(670));
    const a = makeSplit(ds, 7);
    assert.deepEqual([a.train.length, a.valid.length, a.test.length], [536, 67, 67]);
    assert.equal(new Set([...a.train, ...a.valid, ...a.test]).size, 670);
    assert.deepEqual(makeSplit(ds, 7), a, 'same seed, same split');
    assert.notDeepEqual(makeSplit(ds, 8).test, a.test, 'another seed, another split');
    const shuffledInput = fakeDataset([...ids(670)].reverse());
    assert.deepEqual(makeSplit(shuffledInput, 7).test, a.test, 'independent of listing order');
  });

  it('keep each patient in one part, 70/20/10 of the patients', () => {
    const patients = Array.from({ length: 18 }, (_, p) => `D${p + 1}`);
    const sliceIds = patients.flatMap((p) => Array.from({ length: 5 }, (_, z) => `${p}-${z}`));
    const ds = fakeDataset(sliceIds, 'group', (id) => id.split('-')[0]);
    const split = makeSplit(ds, 2022);
    const groupsOf = (part: readonly string[]) => new Set(part.map((id) => id.split('-')[0]));
    const [tr, va, te] = [groupsOf(split.train), groupsOf(split.valid), groupsOf(split.test)];
    assert.deepEqual([tr.size, va.size, te.size], [13, 3, 2]);
    for (const g of va) assert.ok(!tr.has(g) && !te.has(g));
    for (const g of te) assert.ok(!tr.has(g));
    assert.equal(split.train.length + split.valid.length + split.test.length, 90);
  });

  it('are saved in the run folder, reloaded unchanged, and never silently redone when the dataset changed', async () => {
    const run = tempDir('sts-run-');
    const ds = fakeDataset(ids(20));
    const first = await loadOrCreateSplit(run, ds, { seed: 3 });
    assert.equal(first.created, true);
    assert.equal(first.path, join(run, SPLIT_FILE));
    const again = await loadOrCreateSplit(run, ds, { seed: 999 });
    assert.equal(again.created, false);
    assert.deepEqual(again.split, first.split, 'the saved split wins over a new seed');
    assert.deepEqual(JSON.parse(readFileSync(first.path, 'utf8')), first.split);
    const parts = splitSamples(again.split, ds);
    assert.deepEqual(parts.test.map((s) => s.id), first.split.test);

    const shrunk = fakeDataset(ids(20).filter((id) => id !== first.split.test[0]));
    await assert.rejects(
      loadOrCreateSplit(run, shrunk),
      new RegExp(`split\\.json: the saved split does not match the dataset at /data/x; 1 id\\(s\\) of the split are missing from the dataset: ${first.split.test[0]}\\. .*start a new run folder`),
    );
    await assert.rejects(loadOrCreateSplit(run, fakeDataset([...ids(20), 'extra'])), /1 id\(s\) of the dataset are not in the split: extra/);
    writeFileSync(first.path, '{ broken');
    await assert.rejects(loadOrCreateSplit(run, ds), /split\.json: the saved split is not valid JSON/);
  });
});
