/**
 * The objects of a mask or a label map, each with area, box, centroid and pixel-edge outline. The one objects
 * computation: `sts predict` runs it on each group of touching boxes of a slide (pipeline/fine-results.ts), the
 * page on a whole mask. A mask's objects are its 8-connected components (the geometry's labelling, OpenCV's
 * order); a label map's (instances that may touch) are its labels, in label order.
 */
import { connectedComponents, labelImage } from '../geometry/components.js';
import { type LabelMap, maxLabel } from '../geometry/label-map.js';
import { traceRegion } from '../geometry/polygons.js';
import type { Mask } from '../geometry/raster.js';
import type { DetectedObject } from './object-table.js';

export interface Placement {
  /** Where the mask's top-left pixel lies in the image. */
  readonly left?: number;
  readonly top?: number;
  /** The first object's id; the others follow. */
  readonly firstId?: number;
}

/** `mask` placed at (`left`, `top`) of the image; objects numbered from `firstId`. */
export function objectsOfMask(mask: Mask, placement: Placement = {}): DetectedObject[] {
  const components = connectedComponents(mask);
  if (components.count === 0) return [];
  return objectsOfLabels({ width: mask.width, height: mask.height, data: labelImage(components) }, placement, components.count);
}

/**
 * The objects 1..count of `map` placed at (`left`, `top`), `count` its largest label (found when not given);
 * labels without pixels are skipped.
 */
export function objectsOfLabels(map: LabelMap, { left = 0, top = 0, firstId = 1 }: Placement = {}, count = maxLabel(map)): DetectedObject[] {
  const { width } = map;
  const labels = map.data instanceof Int32Array ? map.data : Int32Array.from(map.data);
  const area = new Float64Array(count + 1);
  const sumX = new Float64Array(count + 1);
  const sumY = new Float64Array(count + 1);
  const x0 = new Int32Array(count + 1).fill(2 ** 31 - 1);
  const y0 = new Int32Array(count + 1).fill(2 ** 31 - 1);
  const x1 = new Int32Array(count + 1).fill(-1);
  const y1 = new Int32Array(count + 1).fill(-1);
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i];
    if (k === 0) continue;
    const x = i % width;
    const y = (i - x) / width;
    area[k]++;
    sumX[k] += x + 0.5;
    sumY[k] += y + 0.5;
    if (x < x0[k]) x0[k] = x;
    if (x > x1[k]) x1[k] = x;
    if (y < y0[k]) y0[k] = y;
    if (y > y1[k]) y1[k] = y;
  }
  const objects: DetectedObject[] = [];
  for (let k = 1; k <= count; k++) {
    if (area[k] === 0) continue;
    const box = { left: x0[k], top: y0[k], width: x1[k] - x0[k] + 1, height: y1[k] - y0[k] + 1 };
    objects.push({
      id: firstId + objects.length,
      area: area[k],
      box: { left: box.left + left, top: box.top + top, width: box.width, height: box.height },
      centroidX: sumX[k] / area[k] + left,
      centroidY: sumY[k] / area[k] + top,
      polygons: traceRegion(labels, width, k, box, left, top),
    });
  }
  return objects;
}
