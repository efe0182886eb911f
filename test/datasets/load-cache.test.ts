import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withLoadCache } from '../../src/datasets/load-cache.js';
import type { LoadedSample, Sample } from '../../src/datasets/dataset.js';

const sample = (id: string) => ({ id, group: id, imagePath: `${id}.png`, kind: 'image', maskPath: `${id}-mask.png` }) as Sample;

function countingDataset(bytesEach: number) {
  const loads: string[] = [];
  return {
    loads,
    load: async (s: Sample): Promise<LoadedSample> => {
      loads.push(s.id);
      if (s.id === 'bad') throw new Error(`${s.imagePath}: unreadable`);
      return {
        image: { width: 1, height: 1, channels: 1, data: new Uint8Array(bytesEach / 2) },
        mask: { width: 1, height: 1, channels: 1, data: new Uint8Array(bytesEach / 2) },
      };
    },
  };
}

describe('load cache', () => {
  it('decodes each sample once while it fits, evicting the least recently used beyond the budget', async () => {
    const d = countingDataset(100);
    const cached = withLoadCache(d, 250);
    for (const id of ['a', 'b', 'a', 'a', 'b']) await cached.load(sample(id));
    assert.deepEqual(d.loads, ['a', 'b']);
    await cached.load(sample('c')); // evicts a (least recently used)
    await cached.load(sample('b'));
    await cached.load(sample('a'));
    assert.deepEqual(d.loads, ['a', 'b', 'c', 'a']);
  });

  it('does not cache failures', async () => {
    const d = countingDataset(10);
    const cached = withLoadCache(d);
    await assert.rejects(cached.load(sample('bad')), /bad\.png: unreadable/);
    await assert.rejects(cached.load(sample('bad')), /unreadable/);
    assert.deepEqual(d.loads, ['bad', 'bad']);
  });
});
