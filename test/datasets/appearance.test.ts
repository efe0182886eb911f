/** Telling kinds of training image apart by colour, and drawing the rarer kinds more often (--balance-appearance). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedSample, Sample } from '../../src/datasets/dataset.js';
import { appearanceOf, balancedDraws } from '../../src/datasets/appearance.js';
import type { Raster } from '../../src/geometry/raster.js';
import { datasetTrainingData } from '../../src/train/dataset-training-data.js';

/** A 40 x 30 picture: background colour, with a 10 x 10 nucleus of another colour. */
function picture(background: [number, number, number], nucleus: [number, number, number]): Raster<Uint8Array> {
  const width = 40;
  const height = 30;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(x >= 10 && x < 20 && y >= 10 && y < 20 ? nucleus : background, (y * width + x) * 3);
  }
  return { width, height, channels: 3, data };
}

describe('image appearance', () => {
  it('tells fluorescence, brightfield and stained tissue apart by their colours', () => {
    assert.equal(appearanceOf(picture([8, 8, 8], [200, 200, 200])), 'fluorescence');
    assert.equal(appearanceOf(picture([210, 210, 205], [90, 90, 95])), 'brightfield');
    // H&E: pink background, purple nuclei.
    assert.equal(appearanceOf(picture([235, 180, 210], [110, 60, 150])), 'stained');
    const gray = picture([8, 8, 8], [200, 200, 200]);
    assert.equal(appearanceOf({ ...gray, channels: 1, data: gray.data.filter((_, i) => i % 3 === 0) }), 'fluorescence');
  });

  it('draws each kind sqrt(largest / its size) times, rounded, at least once', () => {
    const groups = [...Array(434).fill('fluorescence'), ...Array(86).fill('stained'), ...Array(16).fill('brightfield')];
    const draws = balancedDraws(groups);
    assert.deepEqual([draws[0], draws[434], draws[520]], [1, 2, 5]);
    assert.deepEqual(balancedDraws(['a', 'a', 'b', 'b']), [1, 1, 1, 1]);
    assert.deepEqual(balancedDraws([]), []);
  });

  it('gives the trainer each training sample as often as drawn, and the validation part as before', async () => {
    const loaded: LoadedSample = { image: picture([8, 8, 8], [200, 200, 200]), mask: { width: 40, height: 30, channels: 1, data: new Uint8Array(40 * 30) } };
    const samples: Sample[] = ['a', 'b', 'c'].map((id) => ({ kind: 'image', id, group: id, imagePath: id, maskPath: id }));
    const dataset = { load: async () => loaded, channels: 3 as const };
    const parts = { train: samples.slice(0, 2), valid: samples.slice(2) };
    const plain = datasetTrainingData(dataset, parts, { stage: 'rough', size: 16 });
    const balanced = datasetTrainingData(dataset, parts, { stage: 'rough', size: 16, draws: [1, 3] });
    assert.equal(plain.batchesPerEpoch(1), 2);
    assert.equal(balanced.batchesPerEpoch(1), 4);
    let validation = 0;
    for await (const b of balanced.validationBatches(1)) validation += b.count;
    assert.equal(validation, 1);
    assert.throws(() => datasetTrainingData(dataset, parts, { stage: 'rough', size: 16, draws: [1] }), /draws.*1 entries for 2 training samples/);
  });
});
