/** The page's bounded cache of decoded TIFF tiles (web/src/source/decoded-tiles.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodedTiles } from '../../web/src/source/decoded-tiles.js';

describe('decoded tiles', () => {
  it('decodes a tile once while it is kept, and lets the least recently used go first', async () => {
    const decoded: string[] = [];
    const tiles = new DecodedTiles<string>(2);
    const get = (key: string) => tiles.get(key, async () => (decoded.push(key), `pixels of ${key}`));
    assert.equal(await get('a'), 'pixels of a');
    await get('b');
    await get('a'); // a is now the most recently used: b goes first
    await get('c');
    assert.equal(tiles.size, 2);
    await get('a');
    await get('b');
    assert.deepEqual(decoded, ['a', 'b', 'c', 'b']);
    assert.deepEqual([tiles.hits, tiles.misses], [2, 4]);
  });

  it('decodes a tile asked for twice at once only once, and does not keep a failed decode', async () => {
    let calls = 0;
    const tiles = new DecodedTiles<number>(4);
    const [x, y] = await Promise.all([tiles.get('t', async () => ++calls), tiles.get('t', async () => ++calls)]);
    assert.deepEqual([x, y, calls], [1, 1, 1]);
    await assert.rejects(tiles.get('bad', () => Promise.reject(new Error('corrupt tile'))), /corrupt tile/);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await tiles.get('bad', async () => 7), 7, 'tried again after failing');
  });

  it('refuses a capacity below one tile', () => {
    assert.throws(() => new DecodedTiles(0), /at least one tile/);
  });
});
