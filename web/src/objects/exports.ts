/**
 * What the user downloads: the objects as CSV and GeoJSON in the library's one format (objects/object-table.ts,
 * the very files `sts predict` writes), built as objects are found into Blobs of a thousand objects each, so a
 * slide's 100,000 objects never become one giant string (nor a Blob of 100,000 parts); and a mask as an 8-bit PNG.
 */
import { encode } from 'fast-png';
import { CSV_HEADER, type DetectedObject, GEOJSON_CLOSE, GEOJSON_OPEN, GEOJSON_SEPARATOR, type Mask, csvRow, geoJsonFeature } from 'segment-then-segment/core';

const OBJECTS_PER_CHUNK = 1000;

export class ObjectDownloads {
  private readonly csv: Blob[] = [];
  private readonly geojson: Blob[] = [];
  private csvText: string[] = [];
  private geoText: string[] = [];
  private count = 0;

  add(o: DetectedObject): void {
    this.csvText.push(csvRow(o));
    this.geoText.push(this.count === 0 ? geoJsonFeature(o) : GEOJSON_SEPARATOR + geoJsonFeature(o));
    if (++this.count % OBJECTS_PER_CHUNK === 0) this.flush();
  }

  finish(): { csv: Blob; geojson: Blob } {
    this.flush();
    return {
      csv: new Blob([`${CSV_HEADER}\n`, ...this.csv], { type: 'text/csv' }),
      geojson: new Blob([GEOJSON_OPEN, ...this.geojson, GEOJSON_CLOSE], { type: 'application/geo+json' }),
    };
  }

  private flush(): void {
    if (this.csvText.length === 0) return;
    this.csv.push(new Blob(this.csvText));
    this.geojson.push(new Blob(this.geoText));
    this.csvText = [];
    this.geoText = [];
  }
}

export function maskPng(mask: Mask): Uint8Array {
  const data = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < data.length; i++) data[i] = mask.data[i] >= 0.5 ? 255 : 0;
  return encode({ width: mask.width, height: mask.height, data, channels: 1, depth: 8 });
}
