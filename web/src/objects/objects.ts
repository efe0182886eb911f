/**
 * The objects of a segmentation: 8-connected components of the mask (the library's labelling, so the page and
 * Node count the same objects), with area, centroid and box. Pure typed-array code: tested in Node.
 */
import { type Components, componentCentroids, connectedComponents } from '../../../src/geometry/components.js';
import type { Box, Mask } from '../../../src/geometry/raster.js';

export interface SegmentedObject {
  /** 1-based, in the labelling's order (raster order of first appearance). */
  readonly id: number;
  readonly area: number;
  readonly centroidX: number;
  readonly centroidY: number;
  readonly box: Box;
}

export interface ObjectSet {
  readonly objects: SegmentedObject[];
  readonly components: Components;
}

export function findObjects(mask: Mask): ObjectSet {
  const components = connectedComponents(mask);
  const centroid = componentCentroids(components);
  const objects = components.boxes.map((box, k) => ({ id: k + 1, area: components.areas[k], centroidX: centroid.x[k], centroidY: centroid.y[k], box }));
  return { objects, components };
}

export interface AreaSummary {
  readonly count: number;
  readonly total: number;
  readonly mean: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summarizeAreas(objects: readonly SegmentedObject[]): AreaSummary {
  if (objects.length === 0) return { count: 0, total: 0, mean: 0, median: 0, min: 0, max: 0 };
  const areas = objects.map((o) => o.area).sort((a, b) => a - b);
  const total = areas.reduce((s, a) => s + a, 0);
  const mid = areas.length >> 1;
  const median = areas.length % 2 ? areas[mid] : (areas[mid - 1] + areas[mid]) / 2;
  return { count: areas.length, total, mean: total / areas.length, median, min: areas[0], max: areas[areas.length - 1] };
}
