/** The page's summary of a result's objects (the objects themselves come from the library: objectsOfMask, detectObjects). */
import type { DetectedObject } from 'segment-then-segment/core';

export interface AreaSummary {
  readonly count: number;
  readonly total: number;
  readonly mean: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summarizeAreas(objects: readonly DetectedObject[]): AreaSummary {
  if (objects.length === 0) return { count: 0, total: 0, mean: 0, median: 0, min: 0, max: 0 };
  const areas = objects.map((o) => o.area).sort((a, b) => a - b);
  const total = areas.reduce((s, a) => s + a, 0);
  const mid = areas.length >> 1;
  const median = areas.length % 2 ? areas[mid] : (areas[mid - 1] + areas[mid]) / 2;
  return { count: areas.length, total, mean: total / areas.length, median, min: areas[0], max: areas[areas.length - 1] };
}
