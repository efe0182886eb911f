/**
 * Instance label maps: one integer per pixel, 0 = background, k = the object labelled k. Labels need not be
 * consecutive (a label map cropped from a larger one keeps its labels). 16-bit maps are what small images are
 * stored as (DSB2018's and MoNuSeg's `instances/`), 32-bit ones what a slide with more than 65,535 objects needs.
 */
import { ArgumentError } from '../errors.js';
import { connectedComponents, labelImage } from './components.js';
import { type Mask, assertPositiveInteger } from './raster.js';

export type LabelArray = Uint16Array | Uint32Array | Int32Array;

export interface LabelMap<T extends LabelArray = LabelArray> {
  readonly width: number;
  readonly height: number;
  /** Row-major labels, width x height; 0 = background. Int32Array labels must not be negative. */
  readonly data: T;
}

/** Checks the shape (negative Int32Array labels are found where the pixels are read, not here: a pass of its own). */
export function assertLabelMap(map: LabelMap, name: string): void {
  if (map === null || typeof map !== 'object' || !(map.data instanceof Uint16Array || map.data instanceof Uint32Array || map.data instanceof Int32Array)) {
    throw new ArgumentError(name, 'must be a label map { width, height, data: Uint16Array | Uint32Array | Int32Array }');
  }
  assertPositiveInteger(map.width, `${name}.width`);
  assertPositiveInteger(map.height, `${name}.height`);
  if (map.data.length !== map.width * map.height) {
    throw new ArgumentError(name, `has ${map.data.length} labels for ${map.width} x ${map.height} pixels`);
  }
}

/**
 * The 8-connected components of a binary mask (foreground >= 0.5) as a label map, numbered 1..n in OpenCV's order:
 * the objects that Segment-then-Segment's semantic outputs report today (`objects.csv` is one row per component),
 * so a semantic prediction can be scored as instances.
 */
export function componentLabelMap(mask: Mask): LabelMap<Int32Array> {
  return { width: mask.width, height: mask.height, data: labelImage(connectedComponents(mask)) };
}

/** The largest label (0 for an empty map). */
export function maxLabel(map: LabelMap): number {
  let max = 0;
  const d = map.data;
  for (let i = 0; i < d.length; i++) if (d[i] > max) max = d[i];
  return max;
}

/** The foreground (label > 0) of a label map as a 0/1 mask: the semantic mask the instances make up. */
export function labelForeground(map: LabelMap): Mask<Uint8Array> {
  const data = new Uint8Array(map.data.length);
  const d = map.data;
  for (let i = 0; i < d.length; i++) data[i] = d[i] > 0 ? 1 : 0;
  return { width: map.width, height: map.height, channels: 1, data };
}
