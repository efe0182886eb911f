import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readImage, readMask, writeMaskPng, writePng } from '../../src/io/image-files.js';
import { writeAtomically } from '../../src/io/atomic-write.js';
import { openImageSource } from '../../src/io/file-image-source.js';
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';

describe('image files', () => {
  it('refuse corrupt data (a JPEG with 300 bytes overwritten), naming the file, where libvips alone only warns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-io-corrupt-'));
    const pixels = Uint8Array.from({ length: 128 * 96 * 3 }, (_, i) => (i * 31) % 251);
    const jpeg = await sharp(pixels, { raw: { width: 128, height: 96, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    await writeFile(join(dir, 'good.jpg'), jpeg);
    for (let i = 0; i < 300; i++) jpeg[(jpeg.length >> 1) + i] = (i * 37) & 255;
    await writeFile(join(dir, 'corrupt.jpg'), jpeg);
    assert.equal((await readImage(join(dir, 'good.jpg'))).width, 128);
    await assert.rejects(readImage(join(dir, 'corrupt.jpg')), /corrupt\.jpg: cannot read this image \(.*Corrupt JPEG data/);
    await assert.rejects(openImageSource(join(dir, 'corrupt.jpg')), /corrupt\.jpg: cannot read this image \(.*Corrupt JPEG data/);
  });


  it('round-trip RGB and masks through PNG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-io-'));
    const rgb = { width: 3, height: 2, channels: 3, data: Uint8Array.from({ length: 18 }, (_, i) => i * 13) };
    await writePng(join(dir, 'a.png'), rgb);
    assert.deepEqual(await readImage(join(dir, 'a.png')), rgb);
    const gray = await readImage(join(dir, 'a.png'), { channels: 1 });
    assert.equal(gray.channels, 1);
    const m = { width: 4, height: 1, channels: 1 as const, data: Uint8Array.from([0, 1, 1, 0]) };
    await writeMaskPng(join(dir, 'm.png'), m);
    assert.deepEqual(await readMask(join(dir, 'm.png')), m);
    assert.deepEqual(readdirSync(dir).sort(), ['a.png', 'm.png'], 'no temporary files left');
  });

  it('leave nothing behind when writing fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-io-'));
    await assert.rejects(
      writeAtomically(join(dir, 'out.png'), async (tmp) => {
        await writePng(tmp, { width: 1, height: 1, channels: 1, data: new Uint8Array(1) });
        throw new Error('interrupted');
      }),
      /interrupted/,
    );
    assert.deepEqual(readdirSync(dir), []);
    assert.ok(!existsSync(join(dir, 'out.png')));
  });
});
