/**
 * The objects of a mask: its 8-connected components (the geometry's labelling, OpenCV's order), each with area,
 * box, centroid and pixel-edge outline. The one objects computation: `sts predict` runs it on each group of
 * touching boxes of a slide (pipeline/fine-results.ts), the page on a whole mask.
 */
import { componentCentroids, connectedComponents, labelImage } from '../geometry/components.js';
import { traceRegion } from '../geometry/polygons.js';
import type { Mask } from '../geometry/raster.js';
import type { DetectedObject } from './object-table.js';

/** `mask` placed at (`left`, `top`) of the image; objects numbered from `firstId`. */
export function objectsOfMask(mask: Mask, { left = 0, top = 0, firstId = 1 }: { left?: number; top?: number; firstId?: number } = {}): DetectedObject[] {
  const components = connectedComponents(mask);
  if (components.count === 0) return [];
  const labels = labelImage(components);
  const centroid = componentCentroids(components);
  const objects: DetectedObject[] = [];
  for (let k = 0; k < components.count; k++) {
    const b = components.boxes[k];
    objects.push({
      id: firstId + k,
      area: components.areas[k],
      box: { left: b.left + left, top: b.top + top, width: b.width, height: b.height },
      centroidX: centroid.x[k] + left,
      centroidY: centroid.y[k] + top,
      polygons: traceRegion(labels, mask.width, k + 1, b, left, top),
    });
  }
  return objects;
}
