/**
 * Two evaluations of the same images side by side (`sts compare`): for each input size, method and metric, the
 * before and after means and the paired difference with its bootstrap interval. Pairing is by image name, so the
 * two per_image.csv files may list the images in any order, but they must list the same images: a mean over a
 * different set of images would not be a before/after.
 */
import { parse } from 'csv-parse/sync';
import { StsError } from '../errors.js';
import { METRIC_NAMES, type MetricName, summarize } from '../metrics/metrics.js';
import { type BootstrapOptions, type PairedDifference, pairedBootstrap } from '../metrics/paired-bootstrap.js';
import type { Method } from './evaluate.js';
import { groupBy } from './report.js';

/** per_image.csv's object scores (with per-object truth), compared like the pixel metrics where both files have them. */
export const OBJECT_METRICS = ['ap50', 'ap75', 'mean_ap', 'merged', 'split'] as const;
export type ObjectMetric = (typeof OBJECT_METRICS)[number];

/** One line of a per_image.csv (see `perImageCsv`). */
export interface PerImageRow extends Record<MetricName, number> {
  readonly size: number;
  readonly method: Method;
  readonly image: string;
  /** The object scores, where the row has them. */
  readonly objects?: Record<ObjectMetric, number>;
}

export interface ComparisonRow {
  readonly size: number;
  readonly method: Method;
  readonly metric: MetricName | ObjectMetric;
  readonly before: number;
  readonly after: number;
  readonly difference: PairedDifference;
}

/** Reads per_image.csv text; `file` names it in errors. */
export function parsePerImageCsv(text: string, file: string): PerImageRow[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, { bom: true, columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (e) {
    throw new StsError(`${file}: not a readable CSV (${(e as Error).message}); give the per_image.csv that sts evaluate or sts reproduce wrote`);
  }
  const needed = ['size', 'method', 'image', ...METRIC_NAMES];
  const missing = needed.filter((c) => records.length > 0 && !(c in records[0]));
  if (records.length === 0 || missing.length > 0) {
    throw new StsError(
      `${file}: ${records.length === 0 ? 'has no rows' : `lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`}; give the per_image.csv that sts evaluate or sts reproduce wrote`,
    );
  }
  const seen = new Set<string>();
  return records.map((r, i) => {
    const id = `${r.size}\u0000${r.method}\u0000${r.image}`;
    if (seen.has(id)) throw new StsError(`${file}, row ${i + 2}: image ${r.image} appears twice for S = ${r.size}, ${r.method}; one row per image and method`);
    seen.add(id);
    const method = r.method;
    if (method !== 'baseline' && method !== 'sts') throw new StsError(`${file}, row ${i + 2}: method "${method}" is neither baseline nor sts`);
    const values = {} as Record<MetricName, number>;
    for (const m of METRIC_NAMES) {
      values[m] = Number(r[m]);
      if (!Number.isFinite(values[m])) throw new StsError(`${file}, row ${i + 2}: ${m} "${r[m]}" is not a number`);
    }
    // Object columns are present only with per-object truth, and empty on rows without it.
    const objects = OBJECT_METRICS.every((m) => r[m] !== undefined && r[m] !== '') ? Object.fromEntries(OBJECT_METRICS.map((m) => [m, Number(r[m])])) as Record<ObjectMetric, number> : undefined;
    if (objects) for (const m of OBJECT_METRICS) if (!Number.isFinite(objects[m])) throw new StsError(`${file}, row ${i + 2}: ${m} "${r[m]}" is not a number`);
    return { size: Number(r.size), method, image: r.image, ...values, ...(objects ? { objects } : {}) };
  });
}

const key = (r: PerImageRow): string => `${r.size}\u0000${r.method}`;

/** The paired comparison of every (size, method) that both evaluations hold. */
export function compareEvaluations(
  before: readonly PerImageRow[],
  after: readonly PerImageRow[],
  names: { before: string; after: string },
  options: BootstrapOptions = {},
): ComparisonRow[] {
  const afterGroups = groupBy(after, key);
  const out: ComparisonRow[] = [];
  for (const [k, beforeRows] of groupBy(before, key)) {
    const afterRows = afterGroups.get(k);
    if (!afterRows) continue;
    const { size, method } = beforeRows[0];
    const afterByImage = new Map(afterRows.map((r) => [r.image, r]));
    const beforeImages = new Set(beforeRows.map((r) => r.image));
    const onlyBefore = beforeRows.filter((r) => !afterByImage.has(r.image)).map((r) => r.image);
    const onlyAfter = afterRows.filter((r) => !beforeImages.has(r.image)).map((r) => r.image);
    if (onlyBefore.length > 0 || onlyAfter.length > 0) {
      const list = (xs: string[], file: string) => (xs.length ? `\n  ${xs.length} only in ${file}: ${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ', ...' : ''}` : '');
      throw new StsError(
        `S = ${size}, ${method}: the two evaluations are not of the same images${list(onlyBefore, names.before)}${list(onlyAfter, names.after)}\n` +
          'evaluate both on the same split and part (sts evaluate --split <split.json> --part <part>)',
      );
    }
    for (const metric of METRIC_NAMES) {
      const b = beforeRows.map((r) => r[metric]);
      const a = beforeRows.map((r) => afterByImage.get(r.image)![metric]);
      const difference = pairedBootstrap(b, a, options);
      out.push({ size, method, metric, before: summarize(b).mean, after: summarize(a).mean, difference });
    }
    // The object scores, when every image of both has them.
    if (beforeRows.every((r) => r.objects) && afterRows.every((r) => r.objects)) {
      for (const metric of OBJECT_METRICS) {
        const b = beforeRows.map((r) => r.objects![metric]);
        const a = beforeRows.map((r) => afterByImage.get(r.image)!.objects![metric]);
        out.push({ size, method, metric, before: summarize(b).mean, after: summarize(a).mean, difference: pairedBootstrap(b, a, options) });
      }
    }
  }
  if (out.length === 0) {
    throw new StsError(`${names.before} and ${names.after} share no input size and method to compare (each row pairs by size, method and image)`);
  }
  return out;
}

const signed = (x: number): string => `${x >= 0 ? '+' : '-'}${Math.abs(x).toFixed(3)}`;

/** A Markdown table: one line per size, method and metric. */
export function comparisonTable(rows: readonly ComparisonRow[], level = 0.95): string {
  const pct = Math.round(level * 100);
  const lines = [`| S | method | metric | before | after | after - before [${pct}% interval] | images |`, '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const d = r.difference;
    lines.push(
      `| ${r.size} | ${r.method === 'sts' ? 'StS' : 'baseline'} | ${r.metric} | ${r.before.toFixed(3)} | ${r.after.toFixed(3)} | ${signed(d.mean)} [${signed(d.low)}, ${signed(d.high)}] | ${d.n} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
