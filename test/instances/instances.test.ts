import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coreOfLabels, coreTargetOfLabels, depthOfLabels } from '../../src/instances/core-target.js';
import { splitByCores } from '../../src/instances/split-by-cores.js';
import type { Raster } from '../../src/geometry/raster.js';
import { rasterImageSource } from '../../src/io/raster-image-source.js';
import { detectObjects } from '../../src/pipeline/fine-results.js';
import { streamingSegmentThenSegment } from '../../src/pipeline/streaming-sts.js';
import { flowNet, instanceNet, roughNet } from '../support/stand-in-networks.js';

/** A label map from rows of characters: '.' background, a digit or letter an object. */
function labelsOf(rows: string[]): { labels: Int32Array; width: number; height: number } {
  const width = rows[0].length;
  const labels = Int32Array.from(rows.join(''), (c) => (c === '.' ? 0 : parseInt(c, 36)));
  return { labels, width, height: rows.length };
}

/** A square of side 7 (depths 1 to 4) and a 2 x 1 object below it. */
const SQUARE_AND_THIN = ['.........', '.1111111.', '.1111111.', '.1111111.', '.1111111.', '.1111111.', '.1111111.', '.1111111.', '.........', '22.......'];

function disc(labels: Int32Array, width: number, cx: number, cy: number, r: number, label: number): void {
  const height = labels.length / width;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) labels[y * width + x] = label;
}

describe('instance cores', () => {
  it('a square of side 7 keeps the pixels more than half its depth inside; a 2-pixel-thin object keeps itself', () => {
    const { labels, width, height } = labelsOf(SQUARE_AND_THIN);
    const core = coreOfLabels({ width, height, data: labels });
    // depth 1 on the ring, 4 at the centre: the core is depth > 2, the 3 x 3 centre
    const at = (x: number, y: number) => core[y * width + x];
    let n = 0;
    for (let y = 1; y <= 7; y++) for (let x = 1; x <= 7; x++) n += at(x, y);
    assert.equal(n, 9);
    assert.equal(at(4, 4), 1);
    assert.equal(at(2, 2), 0);
    assert.equal(at(0, 9) + at(1, 9), 2);
    // a deeper share: depth > 0.8 x 4 = 3.2 keeps the centre pixel alone; the thin object keeps all of itself
    const deep = coreOfLabels({ width, height, data: labels }, 0.8);
    assert.equal(deep.reduce((a, v) => a + v, 0), 1 + 2);
    assert.equal(deep[4 * width + 4], 1);
    // depth 0 keeps every pixel of every object
    assert.equal(coreOfLabels({ width, height, data: labels }, 0).reduce((a, v) => a + v, 0), 49 + 2);
    assert.throws(() => coreOfLabels({ width, height, data: labels }, 1), /core depth.*below 1/);
  });

  it("the depth target: each pixel's share of its object's largest depth, whose values above one half are the binary core", () => {
    const { labels, width, height } = labelsOf(SQUARE_AND_THIN);
    const map = { width, height, data: labels };
    const depth = depthOfLabels(map);
    const at = (x: number, y: number) => depth[y * width + x];
    // depths 1 (ring) .. 4 (centre) of 4: 64, 128 at exactly half (127, so not core), 191, 255; outside 0
    assert.deepEqual([at(1, 1), at(2, 2), at(3, 3), at(4, 4), at(0, 0)], [64, 127, 191, 255, 0]);
    // the one-pixel-thick object is all core, as its binary core
    assert.deepEqual([at(0, 9), at(1, 9)], [255, 255]);
    const core = coreOfLabels(map);
    for (let i = 0; i < depth.length; i++) assert.equal(depth[i] > 127.5 ? 1 : 0, core[i], `pixel ${i}`);
    assert.deepEqual(coreTargetOfLabels(map, { coreTarget: 'depth' }), depth);
    assert.deepEqual(coreTargetOfLabels(map), core);
    assert.throws(() => coreTargetOfLabels(map, { coreTarget: 'flows' as never }), /--core-target.*binary, depth/);
  });

  it('two touching discs: their cores are apart, and the split gives two objects that cover the union', () => {
    const width = 40;
    const height = 24;
    const labels = new Int32Array(width * height);
    disc(labels, width, 12, 12, 8, 1);
    disc(labels, width, 26, 12, 8, 2); // overlapping the first: the later one wins, as in the datasets
    const core = coreOfLabels({ width, height, data: labels });
    const fg = Uint8Array.from(labels, (v) => (v > 0 ? 1 : 0));
    const split = splitByCores(fg, core, width, height);
    assert.equal(split.count, 2);
    for (let i = 0; i < labels.length; i++) assert.equal(split.data[i] > 0, labels[i] > 0);
    // each true disc is (almost) one predicted object
    for (const l of [1, 2]) {
      const counts = new Map<number, number>();
      let area = 0;
      labels.forEach((v, i) => {
        if (v === l) {
          area++;
          counts.set(split.data[i], (counts.get(split.data[i]) ?? 0) + 1);
        }
      });
      assert.ok(Math.max(...counts.values()) / area > 0.95, `disc ${l} is one object`);
    }
  });

  it('a component without a core stays one object; tiny core specks are ignored', () => {
    const width = 12;
    const height = 5;
    const fg = new Uint8Array(width * height);
    const core = new Uint8Array(width * height);
    for (let x = 1; x < 11; x++) fg[2 * width + x] = 1;
    core[2 * width + 2] = 1; // one pixel: below minCorePixels
    // A 10-pixel line: smaller than the default smallest object, so minSize 0 keeps it here.
    const split = splitByCores(fg, core, width, height, { minSize: 0 });
    assert.equal(split.count, 1);
    assert.equal(split.data.filter((v) => v === 1).length, 10);
    const two = splitByCores(fg, core, width, height, { minCorePixels: 1, minSize: 0 });
    assert.equal(two.count, 1, 'one seed floods the whole line');
    assert.equal(splitByCores(fg, core, width, height).count, 0, 'under 15 pixels by default: dropped');
  });

  it('objects under minSize pixels are dropped and the rest renumbered in order', () => {
    // Three coreless components in one row of 30: 4, 15 and 6 pixels long.
    const width = 30;
    const fg = new Uint8Array(width);
    const runs = [[0, 4], [6, 21], [23, 29]];
    for (const [a, b] of runs) fg.fill(1, a, b);
    const none = new Uint8Array(width);
    assert.deepEqual(Array.from(splitByCores(fg, none, width, 1, { minSize: 0 }).data.filter((v, i, a) => v && a[i - 1] !== v)), [1, 2, 3]);
    const kept = splitByCores(fg, none, width, 1, { minSize: 6 });
    assert.equal(kept.count, 2);
    assert.deepEqual(Array.from(kept.data), [0, 0, 0, 0, 0, 0, ...Array(15).fill(1), 0, 0, ...Array(6).fill(2), 0]);
    const defaults = splitByCores(fg, none, width, 1);
    assert.equal(defaults.count, 1, 'only the 15-pixel object is at least the default 15');
    assert.equal(defaults.data.filter((v) => v === 1).length, 15);
  });
});

describe('instances through the streaming pipeline', () => {
  // Stand-in networks (test/support/stand-in-networks.ts): nuclei grey (128) with a bright centre (255).

  function nuclei(width: number, height: number, list: [number, number, number][]): Raster<Uint8Array> {
    const data = new Uint8Array(width * height * 3);
    for (const [cx, cy, r] of list) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const d2 = (x - cx) ** 2 + (y - cy) ** 2;
          if (d2 <= r * r) data.fill(Math.max(data[(y * width + x) * 3], d2 <= (r * r) / 4 ? 255 : 128), (y * width + x) * 3, (y * width + x) * 3 + 3);
        }
      }
    }
    return { width, height, channels: 3, data };
  }

  it('a touching pair comes out as two objects, and an object seen by two overlapping crops comes out once', async () => {
    // Two touching nuclei (one rough component, so one crop around both) and a third one whose crop overlaps theirs.
    const image = nuclei(160, 120, [[50, 60, 14], [76, 60, 14], [110, 64, 12]]);
    const source = rasterImageSource(image);
    const result = await streamingSegmentThenSegment(source, { size: 32, rough: roughNet, fine: instanceNet, batchSize: 4, dropPolicy: 'clip' });
    assert.ok(result.results.every((r) => r.core !== undefined), 'the fine results carry cores');
    const objects = [...detectObjects(result, image.width, image.height)];
    assert.equal(objects.length, 3, objects.map((o) => `${o.centroidX.toFixed(0)},${o.centroidY.toFixed(0)} ${o.area}`).join('; '));
    const centres = objects.map((o) => Math.round(o.centroidX)).sort((a, b) => a - b);
    assert.ok(Math.abs(centres[0] - 50) <= 2 && Math.abs(centres[1] - 76) <= 2 && Math.abs(centres[2] - 110) <= 2, `centres ${centres}`);
    // The same image through a semantic fine network: the touching pair is one object.
    const semantic = await streamingSegmentThenSegment(source, { size: 32, rough: roughNet, fine: roughNet, batchSize: 4, dropPolicy: 'clip' });
    assert.equal([...detectObjects(semantic, image.width, image.height)].length, 2);
    // An instance pair's foreground fuses centre-weighted, as its cores; a semantic pair's is the paper's union.
    assert.equal(result.foreground, 'centre');
    assert.equal(semantic.foreground, undefined);
  });

  it('a flow network: the touching pair comes out as two objects, the nucleus of overlapping crops once', async () => {
    const image = nuclei(160, 120, [[50, 60, 14], [76, 60, 14], [110, 64, 12]]);
    const result = await streamingSegmentThenSegment(rasterImageSource(image), { size: 32, rough: roughNet, fine: flowNet, batchSize: 4, dropPolicy: 'clip' });
    assert.ok(result.results.every((r) => r.flowY !== undefined && r.flowX !== undefined && r.core === undefined), 'the fine results carry flows');
    assert.equal(result.instances, true);
    assert.equal(result.foreground, 'centre');
    const objects = [...detectObjects(result, image.width, image.height)];
    assert.equal(objects.length, 3, objects.map((o) => `${o.centroidX.toFixed(0)},${o.centroidY.toFixed(0)} ${o.area}`).join('; '));
    const centres = objects.map((o) => Math.round(o.centroidX)).sort((a, b) => a - b);
    assert.ok(Math.abs(centres[0] - 50) <= 2 && Math.abs(centres[1] - 76) <= 2 && Math.abs(centres[2] - 110) <= 2, `centres ${centres}`);
  });

  it('refuses an instance network as the rough network', async () => {
    const source = rasterImageSource(nuclei(64, 64, [[32, 32, 10]]));
    await assert.rejects(streamingSegmentThenSegment(source, { size: 32, rough: instanceNet, fine: instanceNet }), /rough.*one map/);
  });
});
