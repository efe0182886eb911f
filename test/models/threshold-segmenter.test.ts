import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { otsuThreshold, thresholdSegmenter } from '../../src/models/threshold-segmenter.js';

describe('threshold segmenter (non-learned stand-in network)', () => {
  it("puts Otsu's threshold between the two modes of a bimodal image", () => {
    const values = [...Array(300).fill(20), ...Array(100).fill(200), 25, 30, 190];
    const t = otsuThreshold(values);
    assert.ok(t > 30 && t < 190, String(t));
    assert.ok(Number.isNaN(otsuThreshold([7, 7, 7])));
  });

  it('maps bright objects to high probability and a flat crop to background', async () => {
    const data = new Float32Array(16).fill(10);
    data[5] = data[6] = 240;
    const [objects, flat] = await thresholdSegmenter()([
      { width: 4, height: 4, channels: 1, data },
      { width: 4, height: 4, channels: 1, data: new Float32Array(16).fill(12) },
    ]);
    assert.ok(objects[5] > 0.99 && objects[0] < 0.01);
    assert.ok(Array.from(flat).every((v) => v === 0));
  });
});
