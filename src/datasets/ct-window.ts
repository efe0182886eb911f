/** CT intensity preprocessing as the reference does it for AVT. */
import type { Raster } from '../geometry/raster.js';
import type { VolumeSlice } from '../io/volume.js';

export interface CtWindow {
  readonly min: number;
  readonly max: number;
  /** Subtracted after scaling to 0..1: a global mean, since CT scanners are calibrated to the same HU scale. */
  readonly offset: number;
}

/** The reference's aorta window: 200..500 HU, scaled to 0..1, minus 0.1. */
export const AORTA_WINDOW: CtWindow = { min: 200, max: 500, offset: 0.1 };

/** Clamps a slice (HU) to the window, scales it to 0..1 and subtracts the offset: a 1-channel float32 raster. */
export function windowCt(slice: VolumeSlice, window: CtWindow = AORTA_WINDOW): Raster<Float32Array> {
  const { min, max, offset } = window;
  const range = max - min;
  const d = slice.data;
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    // Written so that NaN (a float volume's missing data) lands on the window's floor.
    const v = !(d[i] >= min) ? min : d[i] > max ? max : d[i];
    out[i] = (v - min) / range - offset;
  }
  return { width: slice.width, height: slice.height, channels: 1, data: out };
}
