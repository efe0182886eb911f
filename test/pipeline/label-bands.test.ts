import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import type { Raster } from '../../src/geometry/raster.js';
import { readLabelMap } from '../../src/io/label-maps.js';
import { predictImage } from '../../src/pipeline/predict-image.js';
import { labelBands, nearestLabelsByBands } from '../../src/pipeline/label-bands.js';
import { seededRng } from '../../src/random.js';
// Stand-in networks: nuclei grey (128) with a bright centre (255); foreground above 100, core above 200.
import { instanceNet, roughNet } from '../support/stand-in-networks.js';


/** Nuclei (grey disks with bright centres) scattered at random, touching pairs and all, as an RGB PNG's pixels. */
function nuclei(width: number, height: number, count: number, seed: number): Raster<Uint8Array> {
  const rng = seededRng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let k = 0; k < count; k++) {
    const r = rng.int(5, 12);
    const cx = rng.int(0, width - 1);
    const cy = rng.int(0, height - 1);
    for (let y = Math.max(0, cy - r); y <= Math.min(height - 1, cy + r); y++) {
      for (let x = Math.max(0, cx - r); x <= Math.min(width - 1, cx + r); x++) {
        const d2 = (x - cx) ** 2 + (y - cy) ** 2;
        const i = (y * width + x) * 3;
        if (d2 <= r * r) data.fill(Math.max(data[i], d2 <= (r * r) / 4 ? 255 : 128), i, i + 3);
      }
    }
  }
  return { width, height, channels: 3, data };
}

const csvAreas = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').slice(0, 2).map(Number));

describe('label maps of slides, band by band', () => {
  it('a slide-path run writes labels.tif (32-bit, pyramidal) equal to the in-memory labels, ids as in objects.csv', async () => {
    // 300 x 700: three 256-row bands, objects across their borders, groups of touching boxes spanning several.
    const image = nuclei(300, 700, 140, 7);
    const dir = mkdtempSync(join(tmpdir(), 'sts-label-bands-'));
    const path = join(dir, 'cells.png');
    await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toFile(path);
    const o = { size: 32, channels: 3 as const, rough: roughNet, fine: instanceNet, scale: { factorX: 2, factorY: 2 }, batchSize: 8 };
    const memory = await predictImage(path, join(dir, 'memory'), o);
    const slide = await predictImage(path, join(dir, 'slide'), { ...o, labelMapInMemoryUpTo: 0 });
    assert.ok(memory.files.includes('labels.png') && slide.files.includes('labels.tif'), `${memory.files} / ${slide.files}`);
    assert.ok(memory.objects > 60, `${memory.objects} objects`);
    assert.equal(slide.objects, memory.objects);
    const inMemory = await readLabelMap(join(dir, 'memory', 'labels.png'));
    const banded = await readLabelMap(join(dir, 'slide', 'labels.tif'));
    assert.ok(banded.data instanceof Uint32Array, '32-bit');
    assert.deepEqual([banded.width, banded.height], [300, 700]);
    assert.ok(banded.data.every((v, i) => v === inMemory.data[i]), 'the same label at every pixel');
    assert.equal((await sharp(join(dir, 'slide', 'labels.tif')).metadata()).subifds, 2, 'reduced levels 150 x 350 and 75 x 175');
    // Ids and areas: objects.csv's rows are the label map's labels.
    const rows = csvAreas(join(dir, 'slide', 'objects.csv'));
    assert.deepEqual(rows, csvAreas(join(dir, 'memory', 'objects.csv')));
    const areas = new Map<number, number>();
    for (const v of banded.data) if (v) areas.set(v, (areas.get(v) ?? 0) + 1);
    assert.deepEqual([...areas.entries()].sort((a, b) => a[0] - b[0]), rows.map(([id, area]) => [id, area]));
    // The overlays outline the same instances.
    assert.ok(readFileSync(join(dir, 'slide', 'overlay.png')).equals(readFileSync(join(dir, 'memory', 'overlay.png'))));
  });

  it('the smallest object size drops objects from the labels and the objects files alike, in memory and on the slide path', async () => {
    const image = nuclei(300, 300, 60, 3);
    const dir = mkdtempSync(join(tmpdir(), 'sts-min-size-'));
    const path = join(dir, 'cells.png');
    await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toFile(path);
    const o = { size: 32, channels: 3 as const, rough: roughNet, fine: instanceNet, scale: { factorX: 2, factorY: 2 }, batchSize: 8 };
    const all = await predictImage(path, join(dir, 'all'), { ...o, minSize: 0 });
    const big = await predictImage(path, join(dir, 'big'), { ...o, minSize: 150 });
    const slide = await predictImage(path, join(dir, 'slide'), { ...o, minSize: 150, labelMapInMemoryUpTo: 0 });
    assert.equal(slide.objects, big.objects);
    const small = csvAreas(join(dir, 'all', 'objects.csv')).filter(([, area]) => area < 150).length;
    assert.ok(small > 0, 'the image has objects under 150 px');
    assert.equal(big.objects, all.objects - small);
    const rows = csvAreas(join(dir, 'big', 'objects.csv'));
    assert.ok(rows.every(([, area]) => area >= 150));
    assert.deepEqual(rows.map(([id]) => id), rows.map((_, k) => k + 1), 'ids stay consecutive');
    const labels = await readLabelMap(join(dir, 'big', 'labels.png'));
    const areas = new Map<number, number>();
    for (const v of labels.data) if (v) areas.set(v, (areas.get(v) ?? 0) + 1);
    assert.deepEqual([...areas.entries()].sort((a, b) => a[0] - b[0]), rows.map(([id, area]) => [id, area]));
    const banded = await readLabelMap(join(dir, 'slide', 'labels.tif'));
    assert.ok(banded.data.every((v, i) => v === labels.data[i]), 'the slide path drops the same objects');
  });

  it('bands take each region once, in order, and only the regions that cross them', async () => {
    const region = (id: number, left: number, top: number, width: number, height: number) => ({
      rect: { left, top, width, height },
      objects: [],
      labels: new Int32Array(width * height).fill(id),
    });
    const regions = [region(1, 0, 0, 2, 3), region(2, 3, 1, 2, 6), region(3, 1, 5, 2, 1), region(4, 0, 9, 1, 1)];
    const told: number[] = [];
    const bands = labelBands(regions, 6, (r) => void told.push(r.labels[0]));
    assert.deepEqual([...(await bands.render(0, 4))], [1, 1, 0, 0, 0, 0, 1, 1, 0, 2, 2, 0, 1, 1, 0, 2, 2, 0, 0, 0, 0, 2, 2, 0]);
    assert.deepEqual(told, [1, 2, 3], 'region 3 is looked at (to know it starts below), not yet drawn');
    assert.deepEqual([...(await bands.render(4, 4))], [0, 0, 0, 2, 2, 0, 0, 3, 3, 2, 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0]);
    await assert.rejects(bands.render(0, 4), /top to bottom/);
    await bands.finish();
    assert.deepEqual(told, [1, 2, 3, 4]);
    // The reduced map, from bands in any order, equals the one from the whole map.
    const whole = Int32Array.from({ length: 7 * 5 }, (_, i) => i);
    const a = nearestLabelsByBands(7, 5, 3, 2);
    a.add(whole, 0, 5);
    const b = nearestLabelsByBands(7, 5, 3, 2);
    b.add(whole.subarray(21), 3, 2);
    b.add(whole.subarray(0, 21), 0, 3);
    assert.deepEqual(b.map, a.map);
  });
});
