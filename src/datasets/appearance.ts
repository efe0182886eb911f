/**
 * What kind of picture a training image is, by its colours: fluorescence (bright nuclei on a dark background),
 * brightfield (dark nuclei on a light, grey background) or stained tissue (H&E and the like: coloured). DSB2018's
 * training images are mostly fluorescence (434 of the nuclei pair's 536), and its worst-scored validation images are
 * the rare kinds (stained: AP@0.5 0.57 over 10 images, brightfield 0.23 over 3, fluorescence 0.82 over 54). Drawing
 * the rare kinds more often per epoch (`balancedDraws`) is how the Data Science Bowl's entries balanced them.
 */
import type { Raster } from '../geometry/raster.js';

export type Appearance = 'fluorescence' | 'brightfield' | 'stained';

/** Mean per-pixel spread between the colour channels above which an image counts as stained (0-255 scale). */
const STAINED_SPREAD = 20;
/** Mean intensity above which an unstained image counts as brightfield (a light background). */
const BRIGHTFIELD_MEAN = 100;
/** Pixels looked at, at most: the kind shows in a sample as well as in every pixel. */
const SAMPLED_PIXELS = 65_536;

export function appearanceOf(image: Raster<Uint8Array>): Appearance {
  const pixels = image.width * image.height;
  if (pixels === 0) return 'fluorescence';
  const step = Math.max(1, Math.floor(pixels / SAMPLED_PIXELS));
  const c = image.channels;
  let sum = 0;
  let spread = 0;
  let n = 0;
  for (let p = 0; p < pixels; p += step, n++) {
    const o = p * c;
    if (c >= 3) {
      const r = image.data[o];
      const g = image.data[o + 1];
      const b = image.data[o + 2];
      sum += (r + g + b) / 3;
      spread += Math.max(r, g, b) - Math.min(r, g, b);
    } else {
      sum += image.data[o];
    }
  }
  if (spread / n > STAINED_SPREAD) return 'stained';
  return sum / n > BRIGHTFIELD_MEAN ? 'brightfield' : 'fluorescence';
}

/**
 * Draws per epoch for each sample of a group: the square root of how much smaller its group is than the largest,
 * rounded (DSB2018's nuclei split: fluorescence 434 x 1, stained 86 x 2, brightfield 16 x 5). The square root
 * lifts the rare kinds without letting 16 images stand for a third of every epoch.
 */
export function balancedDraws(groups: readonly string[]): number[] {
  const sizes = new Map<string, number>();
  for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  const largest = Math.max(0, ...sizes.values());
  return groups.map((g) => Math.max(1, Math.round(Math.sqrt(largest / sizes.get(g)!))));
}
