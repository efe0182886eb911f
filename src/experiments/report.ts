/** Evaluation results as files: per-image CSV, timings CSV, and the paper's Table A1 layout in Markdown. */
import { type MetricName, METRIC_NAMES, formatSummary, summarize } from '../metrics/metrics.js';
import type { EvaluationRow, Method } from './evaluate.js';

const METHOD_LABEL: Record<Method, string> = { baseline: 'baseline', sts: 'Segment-then-Segment' };

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** `size,method,image,dsc,iou,precision,recall,ms`: one line per image and method. */
export function perImageCsv(rows: readonly EvaluationRow[]): string {
  const lines = ['size,method,image,dsc,iou,precision,recall,ms'];
  for (const r of rows) {
    lines.push([r.size, r.method, r.image, ...METRIC_NAMES.map((m) => r[m].toFixed(6)), r.ms.toFixed(2)].map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Timings beside the metrics: time in the networks, the whole method, and the crops StS segmented. */
export function timingsCsv(rows: readonly EvaluationRow[]): string {
  const lines = ['size,method,image,model_ms,ms,crops'];
  for (const r of rows) lines.push([r.size, r.method, r.image, r.modelMs.toFixed(2), r.ms.toFixed(2), r.crops].map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

export function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

export interface SummaryRow {
  readonly size: number;
  readonly method: Method;
  readonly n: number;
  readonly metrics: Record<MetricName, { mean: number; std: number }>;
  readonly msMedian: number;
  readonly modelMsMedian: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : Number.NaN;
}

export function summarizeRows(rows: readonly EvaluationRow[]): SummaryRow[] {
  const out: SummaryRow[] = [];
  const bySize = groupBy(rows, (r) => r.size);
  for (const size of [...bySize.keys()].sort((a, b) => a - b)) {
    const byMethod = groupBy(bySize.get(size)!, (r) => r.method);
    for (const method of ['baseline', 'sts'] as const) {
      const list = byMethod.get(method);
      if (!list) continue;
      const metrics = {} as SummaryRow['metrics'];
      for (const m of METRIC_NAMES) metrics[m] = summarize(list.map((r) => r[m]));
      out.push({ size, method, n: list.length, metrics, msMedian: median(list.map((r) => r.ms)), modelMsMedian: median(list.map((r) => r.modelMs)) });
    }
  }
  return out;
}

/** Table A1 of the paper: per input size, the baseline and Segment-then-Segment side by side, mean ± std. */
export function tableA1(rows: readonly EvaluationRow[]): string {
  const summary = summarizeRows(rows);
  const lines = [
    '| S | method | DSC | IoU | precision | recall | ms / image (median) | StS / baseline time |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of summary) {
    const base = summary.find((b) => b.size === s.size && b.method === 'baseline');
    const ratio = s.method === 'sts' && base ? `${(s.msMedian / base.msMedian).toFixed(2)}x` : '';
    lines.push(
      `| ${s.size} | ${METHOD_LABEL[s.method]} | ${METRIC_NAMES.map((m) => formatSummary({ ...s.metrics[m], n: s.n })).join(' | ')} | ${s.msMedian.toFixed(1)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}
