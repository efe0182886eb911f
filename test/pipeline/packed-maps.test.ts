/**
 * The fine maps kept deflated (src/pipeline/packed-maps.ts): lossless, much smaller for the saturated maps a fine
 * network gives, and read by the renderers exactly as the bytes they came from.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { bytesOf, packBytes } from '../../src/pipeline/packed-maps.js';
import { type FineResults, renderCores, renderDownscaled, renderRegion } from '../../src/pipeline/fine-results.js';

/** A 64 x 64 map like a nucleus crop's: 0 outside a disc, 255 inside, a soft ring of values between. */
function discMap(cx: number, cy: number, r: number, S = 64): Uint8Array {
  const m = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const d = Math.hypot(x - cx, y - cy) - r;
      m[y * S + x] = Math.round(255 * Math.min(1, Math.max(0, 0.5 - d / 3)));
    }
  }
  return m;
}

describe('packed fine maps', () => {
  it('round-trip losslessly, at a fraction of the bytes, and plain bytes pass through', () => {
    const map = discMap(30, 34, 14);
    const packed = packBytes(map);
    assert.equal(packed.length, 4096);
    assert.ok(packed.deflated.byteLength < 4096 / 4, `deflated to ${packed.deflated.byteLength} bytes`);
    assert.deepEqual(bytesOf(packed), map);
    assert.equal(bytesOf(map), map);
    // many maps in turn (more than the recent-maps cache holds) still come back right
    const maps = Array.from({ length: 300 }, (_, k) => discMap(10 + (k % 40), 20 + (k % 23), 5 + (k % 9)));
    const packs = maps.map(packBytes);
    for (const k of [0, 299, 1, 150, 0]) assert.deepEqual(bytesOf(packs[k]), maps[k]);
  });

  it('render the same mask and cores packed as unpacked', () => {
    const boxes = [
      { left: 3, top: 5, width: 40, height: 40 },
      { left: 30, top: 20, width: 50, height: 36 },
    ];
    const maps = [discMap(30, 30, 18), discMap(20, 36, 22)];
    const cores = [discMap(30, 30, 8), discMap(20, 36, 9)];
    const plain: FineResults = { size: 64, mode: 'nearest', results: boxes.map((box, i) => ({ box, map: maps[i], core: cores[i] })) };
    const packed: FineResults = { size: 64, mode: 'nearest', results: boxes.map((box, i) => ({ box, map: packBytes(maps[i]), core: packBytes(cores[i]) })) };
    const region = { left: 0, top: 0, width: 90, height: 60 };
    const a = renderRegion(plain, region);
    assert.ok(a.data.some((v) => v === 1));
    assert.deepEqual(renderRegion(packed, region).data, a.data);
    const c = renderCores(plain, region)!;
    assert.ok(c.some((v) => v === 1));
    assert.deepEqual(renderCores(packed, region), c);
  });

  it('render a zoomed-out picture whose rows cross more boxes than the unpacked-maps cache holds, as unpacked', () => {
    // 400 boxes side by side (300 on one row: more than the 256 maps bytesOf keeps), some rows skipped by the
    // reduction, so boxes enter and leave the rows being drawn.
    const boxes = Array.from({ length: 400 }, (_, k) => ({ left: (k % 300) * 20, top: Math.floor(k / 300) * 50 + (k % 7), width: 24, height: 18 + (k % 5) }));
    const maps = boxes.map((_, k) => discMap(32, 32, 12 + (k % 17)));
    const plain: FineResults = { size: 64, mode: 'nearest', results: boxes.map((box, i) => ({ box, map: maps[i] })) };
    const packed: FineResults = { size: 64, mode: 'nearest', results: boxes.map((box, i) => ({ box, map: packBytes(maps[i]) })) };
    const region = { left: 0, top: 0, width: 6020, height: 80 };
    for (const [w, h] of [[600, 8], [6020, 80], [1505, 61]]) {
      const a = renderDownscaled(plain, region, w, h);
      assert.ok(a.data.some((v) => v === 1));
      assert.deepEqual(renderDownscaled(packed, region, w, h).data, a.data, `${w} x ${h}`);
      // and against the full-resolution rendering, sampled
      const whole = renderRegion(plain, region).data;
      const rows = Array.from({ length: h }, (_, r) => Math.floor((r * 80) / h));
      const cols = Array.from({ length: w }, (_, c) => Math.floor((c * 6020) / w));
      assert.deepEqual(a.data, Uint8Array.from({ length: w * h }, (_, i) => whole[rows[Math.floor(i / w)] * 6020 + cols[i % w]]));
    }
  });
});
