/**
 * `sts metrics`: the reference's per-image metrics of predicted masks against truth masks, as CSV and a summary;
 * with `--instances`, also the instance metrics of label maps (AP at IoU 0.5 / 0.75 / 0.5:0.95, merged, split).
 */
import { basename } from 'node:path';
import { readMask } from '../../io/image-files.js';
import { readObjects } from '../../io/label-maps.js';
import { ArgumentError } from '../../errors.js';
import { labelForeground } from '../../geometry/label-map.js';
import { assertSameSize } from '../../geometry/raster.js';
import { aggregate, type Confusion, confusion, formatSummary, type ImageMetrics, METRIC_NAMES, metricsFromConfusion } from '../../metrics/metrics.js';
import { aggregateInstances, INSTANCE_METRIC_NAMES, type InstanceMetrics, instanceMetrics } from '../../metrics/instances.js';

export interface MetricsOptions {
  /** Score the files as instance label maps too (a file with one value besides 0 counts as a mask's components). */
  readonly instances?: boolean;
}

/** CSV column names of the instance metrics, in INSTANCE_METRIC_NAMES' order. */
const INSTANCE_COLUMNS: Record<(typeof INSTANCE_METRIC_NAMES)[number], string> = {
  ap50: 'ap50',
  ap75: 'ap75',
  meanAp: 'mean_ap',
  merged: 'merged',
  split: 'split',
};

export async function runMetrics(
  preds: string[],
  truths: string[],
  options: MetricsOptions = {},
  log: (line: string) => void = console.log,
): Promise<void> {
  if (preds.length !== truths.length) {
    throw new ArgumentError('--truth', `got ${truths.length} truth masks for ${preds.length} predictions; give one each, in the same order`);
  }
  const instances = options.instances === true;
  const instanceHeader = instances ? `,${INSTANCE_METRIC_NAMES.map((k) => INSTANCE_COLUMNS[k]).join(',')},true_objects,predicted_objects` : '';
  log(`image,${METRIC_NAMES.join(',')},tp,fp,fn${instanceHeader}`);
  const all: ImageMetrics[] = [];
  const allInstances: InstanceMetrics[] = [];
  const fromMask = { pred: 0, truth: 0 };
  for (const [i, p] of preds.entries()) {
    let c: Confusion;
    let row = '';
    if (instances) {
      const [pred, truth] = await Promise.all([readObjects(p), readObjects(truths[i])]);
      assertSameSize(truth.labels, pred.labels, `truth ${truths[i]}`, `prediction ${p}`);
      if (pred.fromMask) fromMask.pred++;
      if (truth.fromMask) fromMask.truth++;
      c = confusion(labelForeground(pred.labels), labelForeground(truth.labels));
      const m = instanceMetrics(pred.labels, truth.labels);
      allInstances.push(m);
      row = `,${INSTANCE_METRIC_NAMES.map((k) => m[k].toFixed(6)).join(',')},${m.trueObjects},${m.predictedObjects}`;
    } else {
      const [pred, truth] = await Promise.all([readMask(p), readMask(truths[i])]);
      assertSameSize(truth, pred, `truth ${truths[i]}`, `prediction ${p}`);
      c = confusion(pred, truth);
    }
    const m = metricsFromConfusion(c);
    all.push(m);
    log(`${basename(p)},${METRIC_NAMES.map((k) => m[k].toFixed(6)).join(',')},${c.tp},${c.fp},${c.fn}${row}`);
  }
  const summary = aggregate(all);
  log(`# mean ± std over ${all.length} images: ${METRIC_NAMES.map((k) => `${k} ${formatSummary(summary[k])}`).join(', ')}`);
  if (!instances) return;
  const s = aggregateInstances(allInstances);
  log(`# instances, mean ± std over ${all.length} images: ${INSTANCE_METRIC_NAMES.map((k) => `${INSTANCE_COLUMNS[k]} ${formatSummary(s.perImage[k])}`).join(', ')}`);
  const percent = (x: number) => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  log(`# objects: ${s.trueObjects} true, ${s.predictedObjects} predicted; of all true objects ${percent(s.mergedPooled)} merged, ${percent(s.splitPooled)} split`);
  if (fromMask.pred + fromMask.truth > 0) {
    log(
      `# read as semantic masks (one value besides 0), their 8-connected components taken as the objects: ` +
        `${fromMask.pred} of ${preds.length} predictions, ${fromMask.truth} of ${truths.length} truths`,
    );
  }
}
