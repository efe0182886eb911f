/**
 * Detected objects as files people open elsewhere: a GeoJSON FeatureCollection of pixel-coordinate polygons in the
 * shape QuPath imports (File > Import objects; one detection per feature), and a CSV of per-object measurements.
 * Both are written as objects arrive, so a slide with a million nuclei never holds them all as one string.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { DetectedObject } from '../pipeline/fine-results.js';

export const CSV_HEADER = 'id,area_px,left,top,width,height,centroid_x,centroid_y';

export interface ObjectWriter {
  add(object: DetectedObject): Promise<void>;
  close(): Promise<void>;
}

/** Writes objects to `geojsonPath` and `csvPath` (both complete only once `close` resolves). */
export function objectWriter(geojsonPath: string, csvPath: string, className = 'Foreground'): ObjectWriter {
  const geo = createWriteStream(geojsonPath);
  const csv = createWriteStream(csvPath);
  let first = true;
  geo.write('{"type":"FeatureCollection","features":[\n');
  csv.write(`${CSV_HEADER}\n`);
  return {
    async add(o) {
      const geometry =
        o.polygons.length === 1
          ? { type: 'Polygon', coordinates: o.polygons[0] }
          : { type: 'MultiPolygon', coordinates: o.polygons };
      const feature = {
        type: 'Feature',
        id: randomUUID(),
        geometry,
        properties: {
          objectType: 'detection',
          name: `object ${o.id}`,
          classification: { name: className, color: [0, 200, 0] },
          measurements: { id: o.id, 'Area px^2': o.area, 'Centroid X px': round(o.centroidX), 'Centroid Y px': round(o.centroidY) },
        },
      };
      await write(geo, `${first ? '' : ',\n'}${JSON.stringify(feature)}`);
      first = false;
      const b = o.box;
      await write(csv, `${o.id},${o.area},${b.left},${b.top},${b.width},${b.height},${round(o.centroidX)},${round(o.centroidY)}\n`);
    },
    async close() {
      geo.end('\n]}\n');
      csv.end();
      await Promise.all([once(geo, 'finish'), once(csv, 'finish')]);
    },
  };
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
