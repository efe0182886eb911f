import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pairedBootstrap } from '../../src/metrics/paired-bootstrap.js';
import { seededRng, uniform } from '../../src/random.js';

describe('paired bootstrap', () => {
  it('gives a zero-width interval at the shift when every image moves by the same amount', () => {
    const before = [0.2, 0.5, 0.9, 0.4];
    const d = pairedBootstrap(before, before.map((x) => x + 0.05));
    assert.ok(Math.abs(d.mean - 0.05) < 1e-12);
    assert.ok(Math.abs(d.low - 0.05) < 1e-12 && Math.abs(d.high - 0.05) < 1e-12);
    assert.equal(d.n, 4);
  });

  it('covers the true mean shift in about 95% of repeated experiments, with the textbook width', () => {
    // 200 experiments of 60 images each, differences ~ U(-0.1, 0.2): true mean 0.05, sd 0.3/sqrt(12).
    let covered = 0;
    let width = 0;
    const rng = seededRng(9);
    for (let e = 0; e < 200; e++) {
      const before = Array.from({ length: 60 }, () => uniform(rng, 0, 1));
      const after = before.map((x) => x + uniform(rng, -0.1, 0.2));
      const d = pairedBootstrap(before, after, { resamples: 1000, seed: e });
      if (d.low <= 0.05 && 0.05 <= d.high) covered++;
      width += (d.high - d.low) / 200;
    }
    assert.ok(covered >= 180 && covered <= 198, `covered ${covered} of 200`);
    const expected = 2 * 1.96 * (0.3 / Math.sqrt(12)) / Math.sqrt(60);
    assert.ok(Math.abs(width - expected) / expected < 0.1, `mean width ${width} vs ${expected}`);
  });

  it('is reproducible from its seed and changes with it', () => {
    const rng = seededRng(5);
    const before = Array.from({ length: 30 }, () => uniform(rng, 0, 1));
    const after = before.map((x) => x + uniform(rng, -0.2, 0.3));
    assert.deepEqual(pairedBootstrap(before, after, { seed: 3 }), pairedBootstrap(before, after, { seed: 3 }));
    assert.notDeepEqual(pairedBootstrap(before, after, { seed: 3 }), pairedBootstrap(before, after, { seed: 4 }));
  });

  it('refuses unpaired or empty inputs, naming the argument', () => {
    assert.throws(() => pairedBootstrap([1, 2], [1]), /after: has 1 values for 2/);
    assert.throws(() => pairedBootstrap([], []), /before: is empty/);
    assert.throws(() => pairedBootstrap([1], [1], { level: 1 }), /level/);
  });
});
