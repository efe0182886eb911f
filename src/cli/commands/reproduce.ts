/**
 * `sts reproduce`: the paper's experiment for one dataset and architecture: for each input size S, train the rough
 * (baseline) and the fine network (what is missing; finished runs are reused, interrupted ones resume), evaluate
 * both methods on the held-out test split at the original resolution, and write the report folder: report.md with
 * Table A1, per_image.csv, timings.csv and the figures (DSC and recall against S, per-image DSC distributions,
 * example overlays). Each size's evaluation is saved as it completes, so a long run can stop and go on.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { writePng } from '../../io/image-files.js';
import { writeAtomically } from '../../io/atomic-write.js';
import { withLoadCache } from '../../datasets/load-cache.js';
import { openDataset } from '../../datasets/open-dataset.js';
import { SEMI_SYNTHETIC_MARKER, SEMI_SYNTHETIC_VERSION } from '../../datasets/semi-synthetic-aorta.js';
import { loadOrCreateSplit, splitSamples } from '../../datasets/split.js';
import { initEngine } from '../../engine/backend.js';
import { loadModel } from '../../engine/model-files.js';
import type { DropPolicy } from '../../geometry/boxes.js';
import { type EvaluationRow, evaluate } from '../../experiments/evaluate.js';
import { dscDistribution, dscRecallVsSize, exampleOverlays, renderChart } from '../../experiments/figures.js';
import { perImageCsv, referenceTable, tableA1, timingsCsv } from '../../experiments/report.js';
import { REFERENCE_RESULTS } from '../../experiments/reference-results.js';
import { type ModelName } from '../../models/index.js';
import { modelNetwork } from '../../pipeline/model-network.js';
import type { Fallback } from '../../pipeline/segment-then-segment.js';
import { ArgumentError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import { paperHyperparameters } from '../../train/presets.js';
import { formatSeconds, progressBar } from '../progress.js';
import { runTrain } from './train.js';
import { readJsonFile } from '../../io/json-file.js';

export interface ReproduceOptions {
  readonly data: string;
  readonly model: ModelName;
  readonly sizes: number[];
  readonly out: string;
  readonly runs: string;
  /** Rough epochs (fine: half): one for every size or one per size; the paper's when absent. */
  readonly epochs?: number[];
  readonly features?: number;
  readonly batch?: number;
  readonly lr?: number;
  readonly seed: number;
  readonly dropPolicy: DropPolicy;
  readonly fallback: Fallback;
  readonly examples: number;
}

interface SizeResult {
  readonly size: number;
  readonly rows: EvaluationRow[];
  readonly runs: { stage: string; dir: string; epochs: number; bestEpoch: number; bestDsc: number; trainSeconds: number }[];
  readonly evalSeconds: number;
}

export async function runReproduce(o: ReproduceOptions, argv: string[], signal?: AbortSignal): Promise<void> {
  const started = performance.now();
  const bar = progressBar();
  const engine = await initEngine({ warn: (line) => bar.log(line) });
  const dataset = withLoadCache(await openDataset(o.data));
  const name = `${['cells', 'polyp', 'aorta'].includes(o.data) ? o.data : basename(dataset.root)}-${o.model}`;
  const results: SizeResult[] = [];
  if (o.epochs && o.epochs.length !== 1 && o.epochs.length !== o.sizes.length) {
    throw new ArgumentError('--epochs', `give one number or one per size (${o.sizes.length}), got ${o.epochs.length}`);
  }
  for (const [index, size] of o.sizes.entries()) {
    const roughEpochs = o.epochs?.[o.epochs.length === 1 ? 0 : index];
    const prefix = join(o.runs, `${name}-s${size}`);
    const runs: SizeResult['runs'] = [];
    for (const stage of ['rough', 'fine'] as const) {
      const epochs = roughEpochs === undefined ? undefined : stage === 'fine' ? Math.ceil(roughEpochs / 2) : roughEpochs;
      bar.log(`\n== S = ${size}: ${stage} network (${prefix}-${stage})`);
      const dir = `${prefix}-${stage}`;
      await runTrain(
        { data: o.data, model: o.model, size, stage, out: dir, epochs, batch: o.batch, lr: o.lr, seed: o.seed, features: o.features, resize: 'nearest', dropPolicy: o.dropPolicy, resume: true },
        signal,
      );
      runs.push({ stage, dir, ...(await runSummary(dir)) });
    }
    const evalFile = `${prefix}-evaluation.json`;
    let rows: EvaluationRow[];
    let evalSeconds: number;
    const { split } = await loadOrCreateSplit(runs[0].dir, dataset, { seed: o.seed });
    const test = splitSamples(split, dataset).test;
    // A saved evaluation is reused only for the same checkpoints and options: extending a run changes its best model.
    const evaluatedWith = JSON.stringify({
      models: runs.map((r) => ({ stage: r.stage, epochs: r.epochs, bestEpoch: r.bestEpoch })),
      dropPolicy: o.dropPolicy,
      fallback: o.fallback,
    });
    const saved = existsSync(evalFile) ? await readJsonFile<{ rows: EvaluationRow[]; evalSeconds: number; evaluatedWith?: string }>(evalFile, 'delete it to evaluate again') : null;
    if (saved && saved.evaluatedWith === evaluatedWith) {
      ({ rows, evalSeconds } = saved);
      bar.log(`S = ${size}: using the saved evaluation ${evalFile}`);
    } else {
      if (saved) bar.log(`S = ${size}: ${evalFile} was made with other models or options; evaluating again`);
      bar.log(`S = ${size}: evaluating baseline and Segment-then-Segment on ${test.length} test images`);
      const t = performance.now();
      const rough = modelNetwork((await loadModel(join(runs[0].dir, 'best'))).model, { ownsModel: true });
      const fine = modelNetwork((await loadModel(join(runs[1].dir, 'best'))).model, { ownsModel: true });
      bar.start(test.length, `evaluate S = ${size}`);
      try {
        ({ rows } = await evaluate({ dataset, samples: test, size, rough, fine, dropPolicy: o.dropPolicy, fallback: o.fallback, signal, onImage: (done) => bar.update(done) }));
      } finally {
        rough.dispose();
        fine.dispose();
      }
      bar.stop();
      evalSeconds = (performance.now() - t) / 1000;
      await writeAtomically(evalFile, (tmp) => writeFile(tmp, JSON.stringify({ rows, evalSeconds, evaluatedWith })));
    }
    results.push({ size, rows, runs, evalSeconds });
    bar.log(tableA1(rows));
    await writeReport(o, argv, name, engine.backend, results, (performance.now() - started) / 1000, dataset, test);
  }
  bar.log(`\nreport: ${join(o.out, 'report.md')} (${formatSeconds((performance.now() - started) / 1000)} this run)`);
}

async function runSummary(dir: string) {
  const damaged = `the run in ${dir} is damaged: delete the folder to train it again`;
  const config = await readJsonFile<{ epochs: number }>(join(dir, 'config.json'), damaged);
  const state = await readJsonFile<{ epoch: number; bestEpoch: number; bestDsc: number }>(join(dir, 'last', 'state.json'), damaged);
  const log = (await readFile(join(dir, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { seconds: number });
  return { epochs: state.epoch, bestEpoch: state.bestEpoch, bestDsc: state.bestDsc, trainSeconds: log.reduce((s, e) => s + e.seconds, 0), plannedEpochs: config.epochs };
}

/** HEAD, marked when the code differs from it; the report folder itself (rewritten by this run) does not count. */
function gitCommit(reportFolder: string): string {
  try {
    const git = (args: string[]) => execFileSync('git', args, { cwd: packageRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    const sha = git(['rev-parse', 'HEAD']);
    // A report folder outside the checkout cannot be excluded by a pathspec (git refuses it), nor does it need to be.
    const inside = relative(packageRoot, resolve(reportFolder));
    const exclude = inside && !inside.startsWith('..') && !isAbsolute(inside) ? [`:(exclude)${inside}`] : [];
    const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', '.', ...exclude]);
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

async function writeReport(
  o: ReproduceOptions,
  argv: string[],
  name: string,
  engine: string,
  results: SizeResult[],
  wallSeconds: number,
  dataset: Parameters<typeof evaluate>[0]['dataset'] & { readonly root: string },
  test: Parameters<typeof evaluate>[0]['samples'],
): Promise<void> {
  const rows = results.flatMap((r) => r.rows);
  const kind = ['cells', 'polyp', 'aorta'].includes(o.data) ? o.data : undefined;
  const paper = kind ? paperHyperparameters(kind as 'cells', 'rough') : undefined;
  const lines: string[] = [];
  // Marked by the folder itself, so that a real AVT set is never called semi-synthetic nor the painted one real.
  const semiSynthetic = existsSync(join(dataset.root, SEMI_SYNTHETIC_MARKER));
  lines.push(`# ${name}: baseline vs Segment-then-Segment${semiSynthetic ? ' (semi-synthetic CT)' : ''}`, '');
  lines.push(`Command: \`sts ${argv.join(' ')}\``, '');
  if (semiSynthetic) {
    lines.push(
      `**Semi-synthetic data.** The AVT CT scans are not available here; these images are CT-like volumes painted by \`sts semi-synthetic-aorta\` (painter v${SEMI_SYNTHETIC_VERSION}) around the real AVT Dongyang aorta label volumes. The aorta shapes are real, every intensity is made up, so these are not AVT results and are not comparable with the paper's AVT numbers.`,
      '',
    );
  }
  lines.push(`Commit: ${gitCommit(o.out)}; engine: ${engine}; date: ${new Date().toISOString()}; seed ${o.seed} (split, weights, data order).`, '');
  lines.push('## Results on the held-out test split (original resolution, per-image mean ± std)', '', tableA1(rows), '');
  const reference = kind === 'cells' || kind === 'polyp' ? REFERENCE_RESULTS[kind][o.model] : undefined;
  if (reference) lines.push(`## Against the reference code's own results (${o.model}; mean per-image DSC and recall, baseline -> StS)`, '', referenceTable(rows, reference), '');
  lines.push('## Training', '', '| S | network | epochs run | best epoch | best validation DSC | training time |', '|---|---|---|---|---|---|');
  for (const r of results) for (const run of r.runs) lines.push(`| ${r.size} | ${run.stage} | ${run.epochs} | ${run.bestEpoch} | ${run.bestDsc.toFixed(4)} | ${formatSeconds(run.trainSeconds)} |`);
  lines.push('');
  if (paper) {
    const short = results.flatMap((r) => r.runs.filter((run) => run.epochs < (run.stage === 'fine' ? Math.ceil(paper.epochs / 2) : paper.epochs)).map((run) => `S = ${r.size} ${run.stage}`));
    lines.push(short.length
      ? `**Fewer epochs than the paper** (${paper.epochs} rough / ${Math.ceil(paper.epochs / 2)} fine) for: ${short.join(', ')}, because of the CPU budget; these numbers are not the paper's setting.`
      : `Epochs as the paper (${paper.epochs} rough / ${Math.ceil(paper.epochs / 2)} fine).`, '');
  }
  lines.push(`Evaluation time: ${results.map((r) => `S = ${r.size} ${formatSeconds(r.evalSeconds)}`).join(', ')}; wall time of this invocation ${formatSeconds(wallSeconds)} (earlier invocations' training is in the table above).`, '');
  lines.push('Timing excludes disk reads (the paper includes them); StS segments all crops of an image as one batch (the reference runs them one at a time).', '');
  lines.push('## Figures', '', '![DSC and recall against S](dsc-recall-vs-size.png)', '', '![per-image DSC](dsc-distribution.png)', '', '![examples](examples.png)', '');
  lines.push(`Examples: the ${o.examples} test images where Segment-then-Segment gains most over the baseline at S = ${results[0].size}; truth outlined red, baseline blue, Segment-then-Segment green with its crop boxes yellow.`, '');
  await writeAtomically(join(o.out, 'report.md'), (tmp) => writeFile(tmp, lines.join('\n')));
  await writeAtomically(join(o.out, 'per_image.csv'), (tmp) => writeFile(tmp, perImageCsv(rows)));
  await writeAtomically(join(o.out, 'timings.csv'), (tmp) => writeFile(tmp, timingsCsv(rows)));
  await writeAtomically(join(o.out, 'dsc-recall-vs-size.png'), async (tmp) => writeFile(tmp, await renderChart(dscRecallVsSize(rows, name))));
  await writeAtomically(join(o.out, 'dsc-distribution.png'), async (tmp) => writeFile(tmp, await renderChart(dscDistribution(rows, name))));

  // Examples: re-run the smallest size's networks on the images where StS gains most.
  const first = results[0];
  const gain = new Map<string, number>();
  for (const r of first.rows) gain.set(r.image, (gain.get(r.image) ?? 0) + (r.method === 'sts' ? r.dsc : -r.dsc));
  const chosen = [...gain.entries()].sort((a, b) => b[1] - a[1]).slice(0, o.examples).map(([id]) => id);
  const samples = test.filter((s) => chosen.includes(s.id));
  const rough = modelNetwork((await loadModel(join(first.runs[0].dir, 'best'))).model, { ownsModel: true });
  const fine = modelNetwork((await loadModel(join(first.runs[1].dir, 'best'))).model, { ownsModel: true });
  let kept: Awaited<ReturnType<typeof evaluate>>['kept'];
  try {
    ({ kept } = await evaluate({ dataset, samples, size: first.size, rough, fine, dropPolicy: o.dropPolicy, fallback: o.fallback, keep: new Set(chosen) }));
  } finally {
    rough.dispose();
    fine.dispose();
  }
  const picture = await exampleOverlays(chosen.map((id) => kept.get(id)!).filter(Boolean));
  await writePng(join(o.out, 'examples.png'), picture);
}
