/** The page's bounded cache of decoded TIFF tiles (web/src/source/decoded-tiles.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodedTiles, readTilesThrough } from '../../web/src/source/decoded-tiles.js';

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

  it('a reader that aborts stops waiting, and another reader of the same tile still gets it', async () => {
    let decodes = 0;
    let finish!: (v: string) => void;
    // A decode that fails if it is handed a signal that aborts, as geotiff.js's does.
    const image = {
      getTileOrStrip: (x: number, y: number, _sample: number, _pool: unknown, signal?: AbortSignal) => {
        decodes++;
        return new Promise<string>((resolve, reject) => {
          finish = resolve;
          signal?.addEventListener('abort', () => reject(new Error('decode aborted')));
        }).then((v) => `${v} ${x},${y}`);
      },
    };
    readTilesThrough(image, new DecodedTiles<string>(4), 0);
    const leaving = new AbortController();
    const first = image.getTileOrStrip(1, 2, 0, undefined, leaving.signal);
    const second = image.getTileOrStrip(1, 2, 0, undefined, new AbortController().signal);
    leaving.abort(new Error('the first reader left'));
    await assert.rejects(first, /the first reader left/);
    finish('pixels');
    assert.equal(await second, 'pixels 1,2', 'the shared decode went on for the second reader');
    assert.equal(decodes, 1);
    const gone = new AbortController();
    gone.abort(new Error('already gone'));
    await assert.rejects(image.getTileOrStrip(1, 2, 0, undefined, gone.signal), /already gone/);
    assert.equal(await image.getTileOrStrip(1, 2, 0, undefined), 'pixels 1,2', 'kept in the cache');
  });

  it('refuses a capacity below one tile', () => {
    assert.throws(() => new DecodedTiles(0), /at least one tile/);
  });
});
