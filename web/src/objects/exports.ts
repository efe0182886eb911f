/**
 * What the user downloads: the objects as CSV and GeoJSON in the library's one format (objects/object-table.ts,
 * the very files `sts predict` writes), built as Blobs of one part per object so that a slide's 100,000 objects
 * never become one giant string; and the mask as an 8-bit PNG (fast-png).
 */
import { encode } from 'fast-png';
import { CSV_HEADER, type DetectedObject, GEOJSON_CLOSE, GEOJSON_OPEN, GEOJSON_SEPARATOR, type Mask, csvRow, geoJsonFeature } from 'segment-then-segment/core';

export function objectsCsv(objects: readonly DetectedObject[]): Blob {
  return new Blob([`${CSV_HEADER}\n`, ...objects.map(csvRow)], { type: 'text/csv' });
}

export function objectsGeoJson(objects: readonly DetectedObject[]): Blob {
  const parts: string[] = [GEOJSON_OPEN];
  objects.forEach((o, i) => parts.push(i === 0 ? geoJsonFeature(o) : GEOJSON_SEPARATOR + geoJsonFeature(o)));
  parts.push(GEOJSON_CLOSE);
  return new Blob(parts, { type: 'application/geo+json' });
}

export function maskPng(mask: Mask): Uint8Array {
  const data = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < data.length; i++) data[i] = mask.data[i] >= 0.5 ? 255 : 0;
  return encode({ width: mask.width, height: mask.height, data, channels: 1, depth: 8 });
}
