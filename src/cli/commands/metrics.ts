/** `sts metrics`: the reference's per-image metrics of predicted masks against truth masks, as CSV and a summary. */
import { basename } from 'node:path';
import { readMask } from '../../io/image-files.js';
import { ArgumentError } from '../../errors.js';
import { assertSameSize } from '../../geometry/raster.js';
import { aggregate, confusion, formatSummary, METRIC_NAMES, metricsFromConfusion } from '../../metrics/metrics.js';

export async function runMetrics(preds: string[], truths: string[], log: (line: string) => void = console.log): Promise<void> {
  if (preds.length !== truths.length) {
    throw new ArgumentError('--truth', `got ${truths.length} truth masks for ${preds.length} predictions; give one each, in the same order`);
  }
  log(`image,${METRIC_NAMES.join(',')},tp,fp,fn`);
  const all = [];
  for (const [i, p] of preds.entries()) {
    const [pred, truth] = await Promise.all([readMask(p), readMask(truths[i])]);
    assertSameSize(truth, pred, `truth ${truths[i]}`, `prediction ${p}`);
    const c = confusion(pred, truth);
    const m = metricsFromConfusion(c);
    all.push(m);
    log(`${basename(p)},${METRIC_NAMES.map((k) => m[k].toFixed(6)).join(',')},${c.tp},${c.fp},${c.fn}`);
  }
  const summary = aggregate(all);
  log(`# mean ± std over ${all.length} images: ${METRIC_NAMES.map((k) => `${k} ${formatSummary(summary[k])}`).join(', ')}`);
}
