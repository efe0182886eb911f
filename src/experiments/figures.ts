/**
 * The paper's figures as PNG: Vega-Lite charts rendered headless to SVG (no browser, no canvas) and rasterised by
 * sharp; example overlays drawn with the project's overlay code.
 */
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { overlay, sideBySide, stackVertically } from '../io/overlay.js';
import type { Raster } from '../geometry/raster.js';
import type { EvaluationRow } from './evaluate.js';
import type { KeptMasks } from './evaluate.js';
import { summarizeRows } from './report.js';

export async function renderChart(spec: TopLevelSpec, scale = 2): Promise<Buffer> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG(scale);
  view.finalize();
  return sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toBuffer();
}

const methodColor = {
  field: 'method',
  type: 'nominal' as const,
  title: 'method',
  legend: { labelLimit: 400 },
  scale: { domain: ['baseline', 'Segment-then-Segment'], range: ['#4c78a8', '#f58518'] },
};

/** Figure 2: mean DSC and mean recall against the input size S. */
export function dscRecallVsSize(rows: readonly EvaluationRow[], title: string): TopLevelSpec {
  const values = summarizeRows(rows).flatMap((s) =>
    (['dsc', 'recall'] as const).map((metric) => ({
      size: s.size,
      method: s.method === 'sts' ? 'Segment-then-Segment' : 'baseline',
      metric: metric === 'dsc' ? 'mean DSC' : 'mean recall',
      value: s.metrics[metric].mean,
    })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null } },
    spec: {
      width: 260,
      height: 200,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'size', type: 'ordinal', title: 'input size S' },
        y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: null },
        color: methodColor,
      },
    },
  };
}

/** Figure 3: the distribution of per-image DSC for each input size and method. */
export function dscDistribution(rows: readonly EvaluationRow[], title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values: rows.map((r) => ({ size: r.size, method: r.method === 'sts' ? 'Segment-then-Segment' : 'baseline', dsc: r.dsc })) },
    width: 90,
    height: 220,
    mark: { type: 'boxplot', extent: 1.5, size: 18 },
    encoding: {
      column: { field: 'size', type: 'ordinal', title: 'input size S' },
      x: { field: 'method', type: 'nominal', axis: null },
      y: { field: 'dsc', type: 'quantitative', title: 'per-image DSC', scale: { domain: [0, 1] } },
      color: methodColor,
    },
  };
}

/**
 * Figure 4: examples, one row each: the image with the truth outlined, the baseline, Segment-then-Segment (with its
 * crop boxes), each tinted over the image. Rows are scaled to a common width.
 */
export async function exampleOverlays(examples: readonly KeptMasks[], width = 900): Promise<Raster<Uint8Array>> {
  const rows: Raster<Uint8Array>[] = [];
  for (const e of examples) {
    const image = to8Bit(e.loaded.image);
    const truth = { mask: e.loaded.mask, color: [255, 60, 60] as const };
    const row = sideBySide([
      overlay(image, { outline: truth }),
      overlay(image, { fill: { mask: e.baseline, color: [80, 160, 255] }, outline: truth }),
      overlay(image, { fill: { mask: e.sts ?? e.baseline, color: [60, 220, 90] }, outline: truth, boxes: e.boxes ? { boxes: e.boxes, color: [255, 220, 0] } : undefined }),
    ]);
    const height = Math.round((row.height * width) / row.width);
    const { data } = await sharp(row.data, { raw: { width: row.width, height: row.height, channels: 3 } }).resize(width, height).raw().toBuffer({ resolveWithObject: true });
    rows.push({ width, height, channels: 3, data: new Uint8Array(data) });
  }
  return stackVertically(rows);
}

/** Images for pictures: 8-bit as they are, float (CT) stretched to 0..255. */
function to8Bit(image: Raster): Raster<Uint8Array> {
  if (image.data instanceof Uint8Array) return image as Raster<Uint8Array>;
  let min = Infinity;
  let max = -Infinity;
  for (const v of image.data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = max > min ? 255 / (max - min) : 0;
  return { ...image, data: Uint8Array.from(image.data, (v) => (v - min) * scale) };
}
