/**
 * Detected objects as files people open elsewhere (objects/object-table.ts has the format: QuPath's GeoJSON and a
 * CSV of measurements). Both are written as objects arrive, so a slide with a million nuclei never holds them all.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { type DetectedObject, GEOJSON_CLOSE, GEOJSON_OPEN, GEOJSON_SEPARATOR, CSV_HEADER, csvRow, geoJsonFeature } from '../objects/object-table.js';

export interface ObjectWriter {
  add(object: DetectedObject): Promise<void>;
  close(): Promise<void>;
}

/** Writes objects to `geojsonPath` and `csvPath` (both complete only once `close` resolves). */
export function objectWriter(geojsonPath: string, csvPath: string, className = 'Foreground'): ObjectWriter {
  const geo = createWriteStream(geojsonPath);
  const csv = createWriteStream(csvPath);
  let first = true;
  geo.write(GEOJSON_OPEN);
  csv.write(`${CSV_HEADER}\n`);
  return {
    async add(o) {
      await write(geo, `${first ? '' : GEOJSON_SEPARATOR}${geoJsonFeature(o, className)}`);
      first = false;
      await write(csv, csvRow(o));
    },
    async close() {
      geo.end(GEOJSON_CLOSE);
      csv.end();
      await Promise.all([once(geo, 'finish'), once(csv, 'finish')]);
    },
  };
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}
