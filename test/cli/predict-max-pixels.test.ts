/**
 * `sts predict --max-pixels`: an image above the cap is named and skipped from its header, before any pixel is
 * decoded (a crafted header claiming 100,000 x 100,000 pixels is refused at once), while the others are segmented.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { checkPixelCap } from '../../src/io/pixel-cap.js';
import { tempDir } from '../support/datasets.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** A PNG whose header claims width x height pixels, with (almost) no pixel data behind it: 57 bytes. */
function pngHeader(width: number, height: number): Buffer {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(0))), chunk('IEND', Buffer.alloc(0))]);
}

describe('--max-pixels', () => {
  it('refuses an image above the cap from its header alone, by name, and segments the others', async () => {
    const dir = tempDir('sts-max-pixels-');
    try {
      const images = join(dir, 'images');
      const out = join(dir, 'out');
      mkdirSync(images);
      await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 40, b: 40 } } }).png().toFile(join(images, 'small.png'));
      writeFileSync(join(images, 'huge.png'), pngHeader(100_000, 100_000));
      await assert.rejects(checkPixelCap(join(images, 'huge.png'), 10_000), /huge\.png: 100000 x 100000 = 10,000,000,000 pixels, above --max-pixels 10,000; refused before reading its pixels/);
      await checkPixelCap(join(images, 'small.png'), 64 * 48);

      const r = spawnSync(process.execPath, [cli, 'predict', '--rough', join(FIXTURE_MODELS, 'cells-rough'), '--fine', join(FIXTURE_MODELS, 'cells-fine'), '--max-pixels', '10000', '--out', out, images], {
        encoding: 'utf8',
        env: { ...process.env, STS_THREADS: '1' },
      });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /error: .*huge\.png: 100000 x 100000 = 10,000,000,000 pixels, above --max-pixels 10,000; refused before reading its pixels/);
      assert.match(r.stderr, /small\.png: \d+ objects, 64 x 48/);
      assert.match(r.stderr, /1 of 2 images failed/);
      assert.deepEqual(readdirSync(out).filter((f) => !f.startsWith('.')), ['small']);
      const bad = spawnSync(process.execPath, [cli, 'predict', '--model', 'nuclei', '--max-pixels', '0', '--out', out, images], { encoding: 'utf8' });
      assert.match(bad.stderr, /--max-pixels: must be a positive integer, got '0'/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
