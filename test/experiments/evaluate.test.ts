import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedSample, Sample } from '../../src/datasets/dataset.js';
import { evaluate } from '../../src/experiments/evaluate.js';
import { dscDistribution, dscRecallVsSize, exampleOverlays, renderChart } from '../../src/experiments/figures.js';
import { instancesTable, perImageCsv, referenceTable, tableA1, timingsCsv } from '../../src/experiments/report.js';
import { REFERENCE_RESULTS } from '../../src/experiments/reference-results.js';
import { compareEvaluations, parsePerImageCsv } from '../../src/experiments/compare.js';
import { imageMetrics } from '../../src/metrics/metrics.js';
import { thresholdSegmenter } from '../../src/models/threshold-segmenter.js';
import { upsampleRough } from '../../src/pipeline/segment-then-segment.js';
import { resize } from '../../src/geometry/resize.js';
import type { Raster } from '../../src/geometry/raster.js';

/** Bright small squares on dark: the kind of image where a small S loses objects and crops recover them. */
function squares(id: string, width: number, height: number, count: number): [Sample, LoadedSample] {
  const image = new Uint8Array(width * height * 3).fill(20);
  const mask = new Uint8Array(width * height);
  for (let k = 0; k < count; k++) {
    const x0 = 10 + ((k * 53) % (width - 30));
    const y0 = 10 + ((k * 37) % (height - 30));
    for (let y = y0; y < y0 + 6; y++) for (let x = x0; x < x0 + 6; x++) {
      mask[y * width + x] = 1;
      image.fill(220, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  const sample = { id, group: id, imagePath: `${id}.png`, kind: 'image', maskPath: `${id}-mask.png` } as Sample;
  return [sample, { image: { width, height, channels: 3, data: image }, mask: { width, height, channels: 1, data: mask } }];
}

describe('evaluation', () => {
  const items = [squares('a', 300, 200, 12), squares('b', 240, 240, 5)];
  const dataset = { load: async (s: Sample) => items.find(([x]) => x.id === s.id)![1] };
  const samples = items.map(([s]) => s);
  const network = thresholdSegmenter();

  it('scores baseline and StS per image at the original resolution', async () => {
    const { rows, kept } = await evaluate({ dataset, samples, size: 32, rough: network, fine: network, keep: new Set(['a']) });
    assert.deepEqual(rows.map((r) => `${r.image}:${r.method}`), ['a:baseline', 'a:sts', 'b:baseline', 'b:sts']);
    // the baseline row is exactly the metrics of the upsampled rough mask
    const [, a] = items[0];
    const small = resize(a.image as Raster, 32, 32);
    const [map] = await network([{ width: 32, height: 32, channels: 3, data: Float32Array.from(small.data) }]);
    const expected = imageMetrics(upsampleRough({ width: 32, height: 32, channels: 1, data: Float32Array.from(map) }, 300, 200), a.mask);
    assert.deepEqual({ dsc: rows[0].dsc, recall: rows[0].recall }, { dsc: expected.dsc, recall: expected.recall });
    assert.ok(rows[1].recall > rows[0].recall, 'crops recover what the downscale lost');
    assert.ok(rows.every((r) => r.ms >= r.modelMs && r.modelMs > 0));
    assert.ok(rows[1].crops > 0);
    assert.ok(kept.get('a')?.sts && !kept.has('b'));

    const csv = perImageCsv(rows).trim().split('\n');
    assert.equal(csv[0], 'size,method,image,dsc,iou,precision,recall,ms');
    assert.equal(csv.length, 5);
    assert.match(timingsCsv(rows), /^size,method,image,model_ms,ms,crops\n32,baseline,a,/);
    const table = tableA1(rows);
    assert.match(table, /\| 32 \| baseline \| \d\.\d{3} ± \d\.\d{3} \|/);
    assert.match(table, /\| 32 \| Segment-then-Segment \| .* \| \d+\.\d+x \|$/m);

    for (const spec of [dscRecallVsSize(rows, 't'), dscDistribution(rows, 't')]) {
      const png = await renderChart(spec, 1);
      assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
    }
    const picture = await exampleOverlays([kept.get('a')!], 300);
    assert.equal(picture.width, 300);
  });

  it('evaluates the baseline alone without a fine network', async () => {
    const { rows } = await evaluate({ dataset, samples, size: 32, rough: network });
    assert.deepEqual(rows.map((r) => r.method), ['baseline', 'baseline']);
  });
});

describe('evaluation of objects', () => {
  // Two touching nuclei (grey 128, bright 255 centres) and one apart; the truth labels each.
  function touching(): LoadedSample {
    const width = 160;
    const height = 120;
    const image = new Uint8Array(width * height * 3);
    const labels = new Uint16Array(width * height);
    const nuclei: [number, number, number][] = [[50, 60, 14], [76, 60, 14], [120, 60, 12]];
    nuclei.forEach(([cx, cy, r], k) => {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const d2 = (x - cx) ** 2 + (y - cy) ** 2;
          if (d2 > r * r) continue;
          labels[y * width + x] = k + 1;
          image.fill(Math.max(image[(y * width + x) * 3], d2 <= (r * r) / 4 ? 255 : 128), (y * width + x) * 3, (y * width + x) * 3 + 3);
        }
      }
    });
    const mask = Uint8Array.from(labels, (v) => (v ? 1 : 0));
    return { image: { width, height, channels: 3, data: image }, mask: { width, height, channels: 1, data: mask }, labels: { width, height, data: labels } };
  }
  const fg = (x: Raster<Float32Array>, i: number) => (x.data[i * x.channels] > 100 ? 1 : 0);
  const semantic = async (inputs: Raster<Float32Array>[]) => inputs.map((x) => Float32Array.from({ length: x.width * x.height }, (_, i) => fg(x, i)));
  const instance = Object.assign(
    async (inputs: Raster<Float32Array>[]) =>
      inputs.map((x) => Float32Array.from({ length: x.width * x.height * 2 }, (_, j) => (j % 2 === 0 ? fg(x, j >> 1) : x.data[(j >> 1) * x.channels] > 200 ? 1 : 0))),
    { outputs: 2 as const },
  );
  const sample = { id: 'n', group: 'n', imagePath: 'n.png', kind: 'image', maskPath: 'n-mask.png' } as Sample;
  const dataset = { load: async () => touching() };

  it('scores objects with per-object truth: a semantic pair merges the touching pair, an instance pair does not', async () => {
    const sem = await evaluate({ dataset, samples: [sample], size: 64, rough: semantic, fine: semantic, dropPolicy: 'clip' });
    const inst = await evaluate({ dataset, samples: [sample], size: 64, rough: semantic, fine: instance, dropPolicy: 'clip' });
    const sts = (rows: typeof sem.rows) => rows.find((r) => r.method === 'sts')!.instances!;
    assert.equal(sts(sem.rows).predictedObjects, 2);
    assert.equal(sts(sem.rows).merged, 2 / 3, 'the two touching nuclei are one object');
    assert.equal(sts(inst.rows).predictedObjects, 3);
    assert.equal(sts(inst.rows).merged, 0);
    assert.equal(sts(inst.rows).ap50, 1);
    assert.ok(sem.rows[0].instances, 'the baseline is scored as objects too');
    // per_image.csv carries the object columns, and sts compare pairs them
    const before = parsePerImageCsv(perImageCsv(sem.rows), 'before.csv');
    const after = parsePerImageCsv(perImageCsv(inst.rows), 'after.csv');
    const compared = compareEvaluations(before, after, { before: 'before.csv', after: 'after.csv' }, { resamples: 100 });
    const ap = compared.find((r) => r.method === 'sts' && r.metric === 'ap50')!;
    assert.equal(ap.after, 1);
    assert.ok(ap.before < 1);
    assert.match(instancesTable(inst.rows), /\| 64 \| .* \| 1\.000 .* \| 0\.0% \| 0\.0% \| 3 \/ 3 \|/);
  });
});

describe("the reference code's results beside ours", () => {
  it('reads the right architecture, puts our means beside them and marks an StS gap over 0.03', () => {
    // Two images per size and method; means: S = 32 baseline DSC 0.5, StS 0.8 (recall 0.6 / 0.9); S = 64 StS 0.9.
    const row = (size: number, method: 'baseline' | 'sts', image: string, dsc: number, recall: number) =>
      ({ size, method, image, dsc, iou: 0, precision: 0, recall, ms: 1, modelMs: 1, crops: 0 });
    const rows = [
      row(32, 'baseline', 'a', 0.4, 0.5), row(32, 'baseline', 'b', 0.6, 0.7), row(32, 'sts', 'a', 0.7, 0.8), row(32, 'sts', 'b', 0.9, 1.0),
      row(64, 'baseline', 'a', 0.7, 0.7), row(64, 'baseline', 'b', 0.7, 0.7), row(64, 'sts', 'a', 0.9, 0.9), row(64, 'sts', 'b', 0.9, 0.9),
      row(48, 'sts', 'a', 0.5, 0.5),
    ];
    const table = referenceTable(rows, REFERENCE_RESULTS.cells.resunetpp).split('\n');
    // Res-U-Net++ on cells in the reference's file: S = 32 0.576 -> 0.809, recall 0.592 -> 0.834; S = 64 0.752 -> 0.866.
    assert.equal(table[2], '| 32 | 0.576 -> 0.809 | 0.500 -> 0.800 | 0.592 -> 0.834 | 0.600 -> 0.900 | -0.009 |');
    assert.equal(table[3], '| 48 | - | - -> 0.500 | - | - -> 0.500 | - |', 'no reference Res-U-Net++ at 48');
    assert.equal(table[4], '| 64 | 0.752 -> 0.866 | 0.700 -> 0.900 | 0.763 -> 0.874 | 0.700 -> 0.900 | +0.034 (over 0.03) |');
    assert.notDeepEqual(REFERENCE_RESULTS.cells.unet[32], REFERENCE_RESULTS.cells.resunetpp[32], 'each architecture its own numbers');
    assert.deepEqual(REFERENCE_RESULTS.polyp.unet[64].dsc, [0.818, 0.838]);
  });
});
