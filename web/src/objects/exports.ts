/**
 * What the user downloads: the objects as CSV and GeoJSON (outlines traced by d3-contour's marching squares) and
 * the mask as an 8-bit PNG (fast-png). Coordinates are image pixels, origin at the top-left corner, y down, which
 * is what QuPath, napari and GIS tools read as an image's own CRS.
 */
import { contours } from 'd3-contour';
import { encode } from 'fast-png';
import type { Mask } from '../../../src/geometry/raster.js';
import type { ObjectSet } from './objects.js';

export function objectsCsv({ objects }: ObjectSet): string {
  const rows = objects.map((o) =>
    [o.id, o.area, o.centroidX.toFixed(2), o.centroidY.toFixed(2), o.box.left, o.box.top, o.box.width, o.box.height].join(','),
  );
  return ['id,area_px,centroid_x,centroid_y,box_left,box_top,box_width,box_height', ...rows].join('\n') + '\n';
}

export interface GeoJsonFeatureCollection {
  readonly type: 'FeatureCollection';
  readonly features: {
    readonly type: 'Feature';
    readonly id: number;
    readonly properties: { readonly id: number; readonly area_px: number; readonly centroid: [number, number] };
    readonly geometry: { readonly type: 'MultiPolygon'; readonly coordinates: number[][][][] };
  }[];
}

export function objectsGeoJson({ objects, components }: ObjectSet): GeoJsonFeatureCollection {
  // One grid per object, 1 px of background around its box so every outline closes.
  const grids = objects.map((o) => new Float64Array((o.box.width + 2) * (o.box.height + 2)));
  const { row, start, end, label } = components.runs;
  for (let r = 0; r < row.length; r++) {
    const k = label[r] - 1;
    const { box } = objects[k];
    const gw = box.width + 2;
    const offset = (row[r] - box.top + 1) * gw - box.left + 1;
    grids[k].fill(1, offset + start[r], offset + end[r]);
  }
  const features = objects.map((o, k) => {
    const gw = o.box.width + 2;
    const gh = o.box.height + 2;
    const [outline] = contours().size([gw, gh]).thresholds([0.5])(Array.from(grids[k]));
    const coordinates = outline.coordinates.map((polygon) =>
      polygon.map((ring) => ring.map(([x, y]) => [x + o.box.left - 1, y + o.box.top - 1])),
    );
    return {
      type: 'Feature' as const,
      id: o.id,
      properties: { id: o.id, area_px: o.area, centroid: [round2(o.centroidX), round2(o.centroidY)] as [number, number] },
      geometry: { type: 'MultiPolygon' as const, coordinates },
    };
  });
  return { type: 'FeatureCollection', features };
}

export function maskPng(mask: Mask): Uint8Array {
  const data = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < data.length; i++) data[i] = mask.data[i] >= 0.5 ? 255 : 0;
  return encode({ width: mask.width, height: mask.height, data, channels: 1, depth: 8 });
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
