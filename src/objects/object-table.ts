/**
 * The one format of a segmentation's objects, for `sts predict`'s files and the page's downloads alike: a CSV row of
 * measurements per object and a GeoJSON feature per object, in the shape QuPath imports (File > Import objects: one
 * detection per feature, pixel-edge polygons in image pixels, origin top-left, y down). Text is made one object at
 * a time, so a slide's million objects are streamed, never joined into one string.
 */
import type { Polygons } from '../geometry/polygons.js';
import type { Box } from '../geometry/raster.js';

export interface DetectedObject {
  /** 1-based. */
  readonly id: number;
  /** Pixels. */
  readonly area: number;
  readonly box: Box;
  /** Centre of mass in pixel coordinates (pixel (x, y) has its centre at x + 0.5, y + 0.5). */
  readonly centroidX: number;
  readonly centroidY: number;
  /** The outline along pixel edges (geometry/polygons.ts), so its area is the pixel count. */
  readonly polygons: Polygons;
}

export const CSV_HEADER = 'id,area_px,left,top,width,height,centroid_x,centroid_y';

/** One CSV line (with its newline) of `CSV_HEADER`'s columns. */
export function csvRow(o: DetectedObject): string {
  const b = o.box;
  return `${o.id},${o.area},${b.left},${b.top},${b.width},${b.height},${round(o.centroidX)},${round(o.centroidY)}\n`;
}

/** The text before, between and after the features of a GeoJSON FeatureCollection. */
export const GEOJSON_OPEN = '{"type":"FeatureCollection","features":[\n';
export const GEOJSON_SEPARATOR = ',\n';
export const GEOJSON_CLOSE = '\n]}\n';

/**
 * One object as a QuPath detection. Its `id` is a UUID, as QuPath writes them (globalThis.crypto, in Node and in
 * browsers alike); everything else depends only on the object.
 */
export function geoJsonFeature(o: DetectedObject, className = 'Foreground'): string {
  const geometry = o.polygons.length === 1 ? { type: 'Polygon', coordinates: o.polygons[0] } : { type: 'MultiPolygon', coordinates: o.polygons };
  return JSON.stringify({
    type: 'Feature',
    id: globalThis.crypto.randomUUID(),
    geometry,
    properties: {
      objectType: 'detection',
      name: `object ${o.id}`,
      classification: { name: className, color: [0, 200, 0] },
      measurements: { id: o.id, 'Area px^2': o.area, 'Centroid X px': round(o.centroidX), 'Centroid Y px': round(o.centroidY) },
    },
  });
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
