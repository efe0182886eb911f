/** The web app's pure modules, in Node: objects and their downloads, and the PNG reader against sharp. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { decode } from 'fast-png';
import { readImage } from '../../src/io/image-files.js';
import type { Mask } from '../../src/geometry/raster.js';
import { packageRoot } from '../../src/paths.js';
import { decodePngBytes } from '../../web/src/decode/png.js';
import { MAX_PIXELS, assertFits, toRgb8 } from '../../web/src/decode/to-rgb.js';
import { ObjectDownloads, maskPng } from '../../web/src/objects/exports.js';
import { ObjectRows, ROW_FIELDS, areasOf, summarizeAreas } from '../../web/src/objects/objects.js';
import { objectWriter } from '../../src/io/object-files.js';
import { objectsOfMask } from '../../src/objects/objects-of-mask.js';

function maskOf(rows: string[]): Mask<Uint8Array> {
  const data = Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0));
  return { width: rows[0].length, height: rows.length, channels: 1, data };
}

const picture = maskOf([
  '..........',
  '.###......',
  '.###...#..',
  '.###...##.',
  '.........#',
  '..........',
]);

test('objects: 8-connected components with area, pixel-centre centroid, box and pixel-edge outline', () => {
  const objects = objectsOfMask(picture);
  assert.equal(objects.length, 2);
  assert.deepEqual(
    { ...objects[0], polygons: undefined },
    { id: 1, area: 9, centroidX: 2.5, centroidY: 2.5, box: { left: 1, top: 1, width: 3, height: 3 }, polygons: undefined },
  );
  assert.deepEqual(objects[0].polygons, [[[[1, 1], [4, 1], [4, 4], [1, 4], [1, 1]]]]);
  assert.equal(objects[1].area, 4);
  assert.deepEqual(objects[1].box, { left: 7, top: 2, width: 3, height: 3 });
  const rows = new ObjectRows();
  objects.forEach((o) => rows.add(o));
  const table = rows.finish();
  assert.equal(table.length, 2 * ROW_FIELDS);
  assert.deepEqual(Array.from(table.subarray(ROW_FIELDS)), [2, 4, 7, 2, 3, 3, objects[1].centroidX, objects[1].centroidY]);
  assert.deepEqual(summarizeAreas(areasOf(table)), { count: 2, total: 13, mean: 6.5, median: 6.5, min: 4, max: 9 });
  assert.deepEqual(summarizeAreas([]), { count: 0, total: 0, mean: 0, median: 0, min: 0, max: 0 });
});

/** GeoJSON text with each feature's random UUID replaced, so two writings of the same objects compare equal. */
const withoutUuids = (text: string) => text.replace(/"id":"[0-9a-f-]{36}"/g, '"id":"uuid"');

test("the page's CSV and GeoJSON downloads are byte for byte the files sts predict writes for the same objects", async () => {
  const objects = objectsOfMask(picture);
  const dir = await mkdtemp(join(tmpdir(), 'sts-objects-'));
  try {
    const writer = objectWriter(join(dir, 'objects.geojson'), join(dir, 'objects.csv'));
    for (const o of objects) await writer.add(o);
    await writer.close();
    const downloads = new ObjectDownloads();
    objects.forEach((o) => downloads.add(o));
    const files = downloads.finish();
    const csv = await files.csv.text();
    assert.equal(csv, await readFile(join(dir, 'objects.csv'), 'utf8'));
    assert.equal(csv.split('\n')[1], '1,9,1,1,3,3,2.5,2.5');
    const geojson = await files.geojson.text();
    assert.equal(withoutUuids(geojson), withoutUuids(await readFile(join(dir, 'objects.geojson'), 'utf8')));
    const parsed = JSON.parse(geojson);
    assert.equal(parsed.features.length, 2);
    assert.equal(parsed.features[0].geometry.type, 'Polygon');
    assert.equal(parsed.features[0].properties.objectType, 'detection');
    assert.equal(JSON.parse(await new ObjectDownloads().finish().geojson.text()).features.length, 0);
    // Many objects: chunked Blobs still make one valid file, in order.
    const many = new ObjectDownloads();
    for (let i = 0; i < 2500; i++) many.add({ ...objects[i % 2], id: i + 1 });
    const { csv: bigCsv, geojson: bigGeo } = many.finish();
    const lines = (await bigCsv.text()).trim().split('\n');
    assert.equal(lines.length, 2501);
    assert.ok(lines[2500].startsWith('2500,'));
    assert.equal(JSON.parse(await bigGeo.text()).features.length, 2500);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('mask PNG is an 8-bit gray 0/255 image of the mask', () => {
  const png = decode(maskPng(picture));
  assert.equal(png.channels, 1);
  assert.equal(png.depth, 8);
  assert.deepEqual(Array.from(png.data), Array.from(picture.data, (v) => v * 255));
});

test('the page reads a DSB2018 PNG (RGBA) to exactly the pixels sharp gives Node', async () => {
  const file = join(packageRoot, 'test/fixtures/web/dsb2018-00071198.png');
  const page = decodePngBytes(new Uint8Array(await readFile(file)), 'x.png');
  const node = await readImage(file);
  assert.deepEqual([page.width, page.height, page.channels], [node.width, node.height, node.channels]);
  assert.ok(Buffer.from(page.data).equals(Buffer.from(node.data)));
  // 16-bit gray: >> 8 and replicated, as the Node reader does.
  assert.deepEqual(Array.from(toRgb8(2, 1, 1, 16, new Uint16Array([256, 65535]), 'g').data), [1, 1, 1, 255, 255, 255]);
});

test('images with odd channel counts or too many pixels are refused with what to do', () => {
  assert.throws(() => toRgb8(1, 1, 5, 8, new Uint8Array(5), 'five.tif'), /five\.tif: has 5 samples per pixel; this page reads gray/);
  assert.throws(() => assertFits(MAX_PIXELS, 2, 'huge.tif'), /huge\.tif: .* megapixels, more than this page decodes whole .*convert it to a tiled, pyramidal TIFF.*vips tiffsave/);
  assert.throws(() => decodePngBytes(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0]), 'cut.png'), /cut\.png: looks like a PNG but cannot be decoded/);
});
