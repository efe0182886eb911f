import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fromArrayBuffer, writeArrayBuffer } from 'geotiff';
import sharp from 'sharp';
import type { LabelMap } from '../../src/geometry/label-map.js';
import { writeMaskPng, writePng } from '../../src/io/image-files.js';
import {
  labelMapFromMaskFiles,
  readLabelMap,
  readObjectMaskFolder,
  readObjects,
  writeLabelBands,
  writeLabelMap,
  writeLabelPng,
  writeLabelTiff,
} from '../../src/io/label-maps.js';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `sts-labels-${name}-`));

/** Blobs of one label each, labels spread over `[0, top]`, with runs, on a size that is no multiple of the tiles. */
function labelMap(width: number, height: number, top: number, Type: { new (n: number): Uint16Array | Uint32Array | Int32Array }): LabelMap {
  const data = new Type(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cell = Math.floor(y / 7) * 1000 + Math.floor(x / 5);
      data[y * width + x] = (x + y) % 11 === 0 ? 0 : top - ((cell * 7919) % Math.min(top, 100_000));
    }
  }
  data[width * height - 1] = top;
  return { width, height, data };
}

describe('label map files', () => {
  it('write a 16-bit PNG when the labels fit in 65535, and read it back exactly', async () => {
    const dir = tmp('png');
    const map = labelMap(83, 61, 65535, Uint16Array);
    const path = await writeLabelMap(dir, map);
    assert.equal(path, join(dir, 'labels.png'));
    assert.deepEqual(readdirSync(dir), ['labels.png'], 'only the finished file: no temporary left');
    const meta = await sharp(path).metadata();
    assert.deepEqual([meta.format, meta.depth, meta.channels], ['png', 'ushort', 1]);
    const back = await readLabelMap(path);
    assert.ok(back.data instanceof Uint16Array);
    assert.deepEqual(back, map);
    // Int32Array labels that fit go to the PNG too.
    const small = labelMap(20, 9, 300, Int32Array);
    await writeLabelMap(dir, small, 'small');
    assert.deepEqual([...(await readLabelMap(join(dir, 'small.png'))).data], [...small.data]);
  });

  it('write a 32-bit TIFF when a label passes 65535, read back exactly by sharp and by geotiff.js', async () => {
    const dir = tmp('tif');
    const map = labelMap(300, 170, 4_294_967_295, Uint32Array);
    assert.ok(map.data.some((v) => v > 65535 && v < 4_294_967_295));
    const path = await writeLabelMap(dir, map);
    assert.equal(path, join(dir, 'labels.tif'));
    assert.deepEqual(readdirSync(dir), ['labels.tif']);
    const back = await readLabelMap(path);
    assert.ok(back.data instanceof Uint32Array);
    assert.deepEqual(back, map);
    // An independent decoder (the page's): same labels, and the file says what it is.
    const bytes = readFileSync(path);
    const image = await (await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))).getImage();
    assert.deepEqual([image.getWidth(), image.getHeight(), image.getBitsPerSample(), image.getTileWidth()], [300, 170, 32, 256]);
    const [raster] = (await image.readRasters()) as unknown as Uint32Array[];
    assert.deepEqual([...raster], [...map.data]);
  });

  it('write a slide-sized label map band by band: tiled, 32-bit, a pyramid made by nearest in SubIFDs, the OME-XML that names it', async () => {
    const dir = tmp('pyramid');
    const width = 700;
    const height = 530;
    const map = labelMap(width, height, 4_000_000_000, Uint32Array);
    let asked = 0;
    const path = join(dir, 'labels.tif');
    await writeLabelBands(path, width, height, (top, rows) => {
      assert.equal(top, asked, 'bands are asked for in order');
      asked = top + rows;
      return map.data.slice(top * width, (top + rows) * width);
    }, { tile: 64, pixelSizeUm: 0.25 });
    assert.equal(asked, height);
    assert.deepEqual(readdirSync(dir), ['labels.tif'], 'only the finished file');
    // Written from bands or from the whole map: the same file.
    await writeLabelTiff(join(dir, 'whole.tif'), map, { tile: 64, pixelSizeUm: 0.25 });
    assert.ok(readFileSync(path).equals(readFileSync(join(dir, 'whole.tif'))));
    const back = await readLabelMap(path);
    assert.ok(back.data instanceof Uint32Array);
    assert.deepEqual(back, map);
    const meta = await sharp(path).metadata();
    assert.deepEqual([meta.depth, meta.subifds, meta.pages], ['uint', 4, 1], 'levels 350, 175, 88 and 44 wide hang off the one image');
    assert.match(readFileSync(path).toString('latin1'), /<Pixels [^>]*Type="uint32" SizeX="700" SizeY="530"[^>]*PhysicalSizeX="0.25"/);
    // Each level holds labels of the full image, never an average: its pixel (x, y) is the full (x 2^k, y 2^k).
    for (let k = 1; k <= 4; k++) {
      const { data, info } = await sharp(path, { subifd: k - 1 }).toColourspace('b-w').raw({ depth: 'uint' }).toBuffer({ resolveWithObject: true });
      const level = new Uint32Array(data.buffer, data.byteOffset, data.length / 4);
      const step = 2 ** k;
      assert.deepEqual([info.width, info.height], [Math.ceil(width / step), Math.ceil(height / step)]);
      const expected = Uint32Array.from({ length: info.width * info.height }, (_, i) => map.data[Math.floor(i / info.width) * step * width + (i % info.width) * step]);
      assert.ok(level.every((v, i) => v === expected[i]), `level ${k} is the full map sampled every ${step} pixels`);
    }
    // A band of the wrong length is refused, and nothing is left.
    await assert.rejects(writeLabelBands(join(dir, 'bad.tif'), width, height, () => new Uint32Array(5), { tile: 64 }), /render: gave 5 labels for rows 0\.\.63 of a map 700 wide \(44800 expected\)/);
    assert.deepEqual(readdirSync(dir).sort(), ['labels.tif', 'whole.tif']);
  });

  it('write BigTIFF with many edge tiles, and signed 32-bit labels, losslessly', async () => {
    const dir = tmp('bigtiff');
    const map = labelMap(101, 77, 2_147_483_647, Int32Array);
    await writeLabelTiff(join(dir, 'big.tif'), map, { bigTiff: true, tile: 16 });
    assert.equal(readFileSync(join(dir, 'big.tif')).readUInt16LE(2), 43, 'BigTIFF version number');
    const back = await readLabelMap(join(dir, 'big.tif'));
    assert.deepEqual([...back.data], [...map.data]);
  });

  it('refuse what is no label map, naming the file', async () => {
    const dir = tmp('refuse');
    await assert.rejects(writeLabelPng(join(dir, 'x.png'), labelMap(4, 4, 70_000, Uint32Array)), /x\.png: has labels up to 70000, more than a 16-bit PNG holds/);
    const negative = { width: 2, height: 1, data: Int32Array.from([1, -2]) };
    await assert.rejects(writeLabelMap(dir, negative), /labels: has the negative label -2 at pixel 1/);
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
    await writePng(join(dir, 'rgb.png'), { width: 2, height: 2, channels: 3, data: Uint8Array.from([9, 9, 9, 0, 0, 0, 5, 5, 5, 7, 7, 8]) });
    await assert.rejects(readLabelMap(join(dir, 'rgb.png')), /rgb\.png: cannot read this label map \(it is a colour image \(pixel \(1, 1\) is not grey\)\); give a one-channel PNG or TIFF/);
    await writePng(join(dir, 'grey-as-rgb.png'), { width: 2, height: 2, channels: 3, data: Uint8Array.from([9, 9, 9, 0, 0, 0, 5, 5, 5, 7, 7, 7]) });
    assert.deepEqual(await readLabelMap(join(dir, 'grey-as-rgb.png')), { width: 2, height: 2, data: Uint16Array.from([9, 0, 5, 7]) });
    // sharp writes no float TIFF; geotiff.js does.
    const float = await writeArrayBuffer(new Float32Array([0, 1.5, 2, 3]), { width: 2, height: 2, BitsPerSample: [32], SampleFormat: [3], SamplesPerPixel: 1, PhotometricInterpretation: 1 });
    writeFileSync(join(dir, 'f.tif'), Buffer.from(float));
    await assert.rejects(readLabelMap(join(dir, 'f.tif')), /f\.tif: cannot read this label map \(its pixels are float values/);
    await assert.rejects(readLabelMap(join(dir, 'missing.png')), /missing\.png: cannot read this label map/);
  });

  it('read a binary mask as its connected components, and a label map as it is', async () => {
    const dir = tmp('objects');
    // Two separate squares and one touching pair (touching at 8-connected diagonals is one component).
    const w = 12;
    const h = 6;
    const labels = new Uint16Array(w * h);
    const square = (label: number, x0: number, y0: number) => {
      for (let y = y0; y < y0 + 2; y++) for (let x = x0; x < x0 + 2; x++) labels[y * w + x] = label;
    };
    square(5, 0, 0);
    square(9, 4, 0);
    square(12, 6, 0); // touches 9
    square(40, 9, 3);
    await writeLabelPng(join(dir, 'labels.png'), { width: w, height: h, data: labels });
    await writeMaskPng(join(dir, 'mask.png'), { width: w, height: h, channels: 1, data: Uint8Array.from(labels, (v) => (v ? 1 : 0)) });
    const asLabels = await readObjects(join(dir, 'labels.png'));
    assert.equal(asLabels.fromMask, false);
    assert.deepEqual([...new Set(asLabels.labels.data)].sort((a, b) => a - b), [0, 5, 9, 12, 40]);
    const asMask = await readObjects(join(dir, 'mask.png'));
    assert.equal(asMask.fromMask, true);
    assert.deepEqual([...new Set(asMask.labels.data)].sort((a, b) => a - b), [0, 1, 2, 3], 'three components: the touching pair is one');
  });

  it('read the Kaggle layout: one mask per object in sorted name order, the later mask winning where they overlap', async () => {
    const root = tmp('kaggle');
    const id = 'abc123';
    mkdirSync(join(root, id, 'images'), { recursive: true });
    mkdirSync(join(root, id, 'masks'));
    const w = 10;
    const h = 4;
    await writePng(join(root, id, 'images', `${id}.png`), { width: w, height: h, channels: 3, data: new Uint8Array(w * h * 3) });
    const rect = (x0: number, x1: number) => Uint8Array.from({ length: w * h }, (_, i) => (i % w >= x0 && i % w < x1 && i >= w ? 255 : 0));
    // Written out of name order; sorted, 'a' is label 1, 'b' 2, 'c' 3. 'b' overlaps 'a' at columns 3..4 and wins.
    await writePng(join(root, id, 'masks', 'c.png'), { width: w, height: h, channels: 1, data: rect(8, 10) });
    await writePng(join(root, id, 'masks', 'a.png'), { width: w, height: h, channels: 1, data: rect(0, 5) });
    await writePng(join(root, id, 'masks', 'b.png'), { width: w, height: h, channels: 1, data: rect(3, 7) });
    const map = await readObjectMaskFolder(join(root, id));
    assert.ok(map.data instanceof Uint16Array);
    assert.deepEqual([map.width, map.height], [w, h]);
    assert.deepEqual([...map.data.subarray(0, w)], new Array(w).fill(0), 'row 0 is background');
    assert.deepEqual([...map.data.subarray(w, 2 * w)], [1, 1, 1, 2, 2, 2, 2, 0, 3, 3]);

    // A mask of another size is refused, naming it; an empty masks/ folder gives an empty map of the image's size.
    await writePng(join(root, id, 'masks', 'd.png'), { width: 3, height: 3, channels: 1, data: new Uint8Array(9) });
    await assert.rejects(readObjectMaskFolder(join(root, id)), /d\.png: mask is 3 x 3 but .*a\.png is 10 x 4/);
    const empty = join(root, 'empty');
    mkdirSync(join(empty, 'images'), { recursive: true });
    mkdirSync(join(empty, 'masks'));
    await writePng(join(empty, 'images', 'empty.png'), { width: 5, height: 3, channels: 3, data: new Uint8Array(45) });
    assert.deepEqual(await readObjectMaskFolder(empty), { width: 5, height: 3, data: new Uint16Array(15) });
    await assert.rejects(readObjectMaskFolder(join(root, 'nothing')), /nothing\/masks: cannot list this folder/);
    await assert.rejects(labelMapFromMaskFiles([]), /no mask files and no image size/);
  });
});
