/**
 * A non-learned segmenter with the network interface: Otsu's threshold on each input's gray levels, turned into a
 * soft probability. It lets the pipeline run end to end (demo, tests) before trained networks exist, and is a
 * classical baseline for bright-object images such as fluorescent nuclei. It is not the paper's network.
 */
import type { Raster } from '../geometry/raster.js';
import type { SegmentationNetwork } from '../types/network.js';

/** Otsu's threshold of values in [0, 255] (256 bins), between bins; `NaN` for a constant input. */
export function otsuThreshold(gray: ArrayLike<number>): number {
  const hist = new Float64Array(256);
  for (let i = 0; i < gray.length; i++) hist[Math.min(255, Math.max(0, Math.round(gray[i])))]++;
  const total = gray.length;
  let sumAll = 0;
  for (let v = 0; v < 256; v++) sumAll += v * hist[v];
  let weightBelow = 0;
  let sumBelow = 0;
  let best = -1;
  let first = Number.NaN;
  let last = Number.NaN;
  for (let v = 0; v < 255; v++) {
    weightBelow += hist[v];
    sumBelow += v * hist[v];
    const weightAbove = total - weightBelow;
    if (weightBelow === 0 || weightAbove === 0) continue;
    const between = weightBelow * weightAbove * (sumBelow / weightBelow - (sumAll - sumBelow) / weightAbove) ** 2;
    if (between > best * (1 + 1e-12)) {
      best = between;
      first = last = v;
    } else if (between >= best * (1 - 1e-12)) {
      last = v;
    }
  }
  // Empty bins between the modes give equal scores: split the gap in the middle rather than hug the dark mode.
  return (first + last) / 2 + 0.5;
}

/**
 * Otsu per input: foreground above the threshold, with a soft ramp of `softness` gray levels. Inputs with too little
 * contrast (`minContrast` gray levels between the class means' threshold and the darkest pixel) are all background.
 */
export function thresholdSegmenter({ softness = 4, minContrast = 20 } = {}): SegmentationNetwork {
  return async (inputs: Raster<Float32Array>[]) =>
    inputs.map((x) => {
      const gray = toGray(x);
      let min = Infinity;
      for (const v of gray) min = Math.min(min, v);
      const t = otsuThreshold(gray);
      const out = new Float32Array(gray.length);
      if (!(t - min >= minContrast)) return out;
      for (let i = 0; i < gray.length; i++) out[i] = 1 / (1 + Math.exp(-(gray[i] - t) / softness));
      return out;
    });
}

function toGray(x: Raster<Float32Array>): Float32Array {
  if (x.channels === 1) return x.data;
  const gray = new Float32Array(x.width * x.height);
  for (let i = 0; i < gray.length; i++) {
    let s = 0;
    for (let k = 0; k < Math.min(3, x.channels); k++) s += x.data[i * x.channels + k];
    gray[i] = s / Math.min(3, x.channels);
  }
  return gray;
}
