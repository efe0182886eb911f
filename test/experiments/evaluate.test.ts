import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedSample, Sample } from '../../src/datasets/dataset.js';
import { evaluate } from '../../src/experiments/evaluate.js';
import { dscDistribution, dscRecallVsSize, exampleOverlays, renderChart } from '../../src/experiments/figures.js';
import { perImageCsv, tableA1, timingsCsv } from '../../src/experiments/report.js';
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
