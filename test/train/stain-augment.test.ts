import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import type { Raster } from '../../src/geometry/raster.js';
import { seededRng } from '../../src/random.js';
import { drawStain, restained } from '../../src/train/stain-augment.js';

/** Ruifrok & Johnston's haematoxylin OD vector, unit length: a pixel of `amount` haematoxylin alone. */
const H = [0.65, 0.7, 0.29].map((v, _, a) => v / Math.hypot(...a));
const haematoxylin = (amount: number): number[] => H.map((h) => 255 * 10 ** -(amount * h));
const od = (v: number): number => -Math.log10(v / 255);

function pixels(values: number[][]): Raster<Uint8Array> {
  return { width: values.length, height: 1, channels: 3, data: Uint8Array.from(values.flat().map((v) => Math.round(v))) };
}

describe('H&E stain augmentation', () => {
  const image = pixels([[255, 255, 255], [120, 60, 140], [200, 150, 190], haematoxylin(0.8), [10, 5, 30]]);

  it('the identity draw leaves every pixel as it was', () => {
    const out = restained(image, { gain: [1, 1, 1], shift: [0, 0, 0] });
    out.data.forEach((v, i) => assert.ok(Math.abs(v - image.data[i]) < 1e-3, `channel ${i}: ${v} vs ${image.data[i]}`));
  });

  it('scales the amount of one stain: a pure haematoxylin pixel keeps its hue and has g times its density', () => {
    const out = restained(image, { gain: [0.5, 1, 1], shift: [0, 0, 0] });
    const before = [0, 1, 2].map((c) => od(image.data[9 + c]));
    const after = [0, 1, 2].map((c) => od(out.data[9 + c]));
    // 8-bit rounding of the input moves the density by up to ~0.005 per channel.
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(after[c] - 0.5 * before[c]) < 0.006, `channel ${c}: OD ${after[c]} vs ${0.5 * before[c]}`);
    assert.equal(out.data[0], 255, 'white (no stain) stays white');
  });

  it('paler staining brightens every pixel, darker darkens it, and values stay within 0..255', () => {
    const paler = restained(image, { gain: [1 / 3, 1 / 3, 1 / 3], shift: [0, 0, 0] });
    const darker = restained(image, { gain: [3, 3, 3], shift: [0, 0, 0] });
    for (let i = 0; i < image.data.length; i++) {
      assert.ok(paler.data[i] >= image.data[i] - 1e-3 && darker.data[i] <= image.data[i] + 1e-3, `channel ${i}`);
      assert.ok(paler.data[i] <= 255 && darker.data[i] >= 0);
    }
    // A third of the density: the dark pixel [10, 5, 30] becomes about [255 (10/255)^(1/3), ...].
    assert.ok(Math.abs(paler.data[12] - 255 * (10 / 255) ** (1 / 3)) < 1, `${paler.data[12]}`);
  });

  it('draws with probability 0.8, gains within the factor (the whole staining, then each stain), shifts within 0.05 OD', () => {
    const rng = seededRng(9);
    let drawn = 0;
    for (let i = 0; i < 500; i++) {
      const d = drawStain(rng, 3);
      if (!d) continue;
      drawn++;
      const density = d.gain[2];
      assert.ok(density >= 1 / 3 - 1e-9 && density <= 3 + 1e-9, `density ${density}`);
      for (const g of d.gain.slice(0, 2)) assert.ok(g / density >= 1 / Math.sqrt(3) - 1e-9 && g / density <= Math.sqrt(3) + 1e-9, `stain gain ${g} / ${density}`);
      for (const s of d.shift) assert.ok(Math.abs(s) <= 0.05);
    }
    assert.ok(drawn > 370 && drawn < 430, `${drawn} of 500 drawn`);
    const one = drawStain(seededRng(1), 1) ?? drawStain(seededRng(2), 1)!;
    assert.deepEqual(one.gain, [1, 1, 1], 'a factor of 1 changes no amount');
  });

  it('refuses factors below 1 and images that are not RGB, naming the option', () => {
    assert.throws(() => drawStain(seededRng(1), 0.5), ArgumentError);
    assert.throws(() => restained({ width: 1, height: 1, channels: 1, data: new Uint8Array([9]) }, { gain: [1, 1, 1], shift: [0, 0, 0] }), /RGB/);
  });
});
