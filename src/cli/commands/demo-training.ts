/**
 * `sts demo --train`, the paper's comparison in small: trains a small rough and a small fine U-Net on 40 real DSB2018
 * nuclei images shipped with the package, then segments a held-out DSB2018 image with the baseline (the rough
 * network's mask upsampled) and with Segment-then-Segment, scores both against its ground truth and draws them.
 *
 * Trained runs are kept in the output folder: a second demo reuses them (and resumes them if interrupted).
 * `--stand-in` skips training and uses the non-learned Otsu segmenter for both networks.
 */
import { join } from 'node:path';
import { readImage, readMask, writeMaskPng, writePng } from '../../io/image-files.js';
import { overlay, sideBySide } from '../../io/overlay.js';
import { initEngine } from '../../engine/backend.js';
import { loadModel } from '../../engine/model-files.js';
import type { DropPolicy } from '../../geometry/boxes.js';
import { assertSameSize } from '../../geometry/raster.js';
import { imageMetrics, METRIC_NAMES } from '../../metrics/metrics.js';
import { thresholdSegmenter } from '../../models/threshold-segmenter.js';
import { packageRoot } from '../../paths.js';
import { modelNetwork } from '../../pipeline/model-network.js';
import { type Fallback, segmentThenSegment, upsampleRough } from '../../pipeline/segment-then-segment.js';
import type { SegmentationNetwork } from '../../types/network.js';
import { runTrain } from './train.js';
import { catalogNames, loadModelPair } from '../../catalog/catalog.js';

/** The catalog pair the demo also runs (models/nuclei: U-Net, S = 64, the paper's epochs, DSB2018). */
const PRETRAINED = 'nuclei';

export interface TrainingDemoOptions {
  readonly image: string;
  readonly mask: string;
  /** The training set (images/ + masks/). */
  readonly trainSet: string;
  readonly size: number;
  readonly epochs: number;
  readonly features: number;
  readonly out: string;
  readonly standIn?: boolean;
  readonly dropPolicy: DropPolicy;
  readonly fallback: Fallback;
}

export const demoDefaults = {
  image: join(packageRoot, 'assets/demo/dsb2018-image.png'),
  mask: join(packageRoot, 'assets/demo/dsb2018-mask.png'),
  trainSet: join(packageRoot, 'assets/demo/train'),
  size: 64,
  epochs: 60,
  features: 8,
  out: 'out/demo',
};

export async function runTrainingDemo(o: TrainingDemoOptions, signal?: AbortSignal, log: (line: string) => void = console.log): Promise<void> {
  const image = await readImage(o.image);
  const truth = await readMask(o.mask);
  assertSameSize(image, truth, `image ${o.image}`, `mask ${o.mask}`);

  let rough: SegmentationNetwork;
  let fine: SegmentationNetwork;
  let networks: string;
  if (o.standIn) {
    rough = fine = thresholdSegmenter();
    networks = 'Otsu threshold stand-ins (not trained)';
  } else {
    // The fine network trains for half the rough network's epochs, as in the paper.
    for (const [stage, epochs] of [['rough', o.epochs], ['fine', Math.ceil(o.epochs / 2)]] as const) {
      log(`\n== training the ${stage} U-Net (S = ${o.size}, ${o.features} base features, ${epochs} epochs) on ${o.trainSet}`);
      await runTrain(
        {
          data: o.trainSet,
          model: 'unet',
          size: o.size,
          stage,
          out: join(o.out, 'runs', stage),
          epochs,
          batch: 8,
          lr: 1e-3,
          seed: 42,
          features: o.features,
          resize: 'nearest',
          dropPolicy: o.dropPolicy,
          resume: true,
        },
        signal,
      );
    }
    await initEngine({ warn: null });
    rough = modelNetwork((await loadModel(join(o.out, 'runs', 'rough', 'best'))).model);
    fine = modelNetwork((await loadModel(join(o.out, 'runs', 'fine', 'best'))).model);
    networks = `U-Nets trained above (${join(o.out, 'runs')})`;
  }

  log(`\n== segmenting ${o.image} (${image.width} x ${image.height}, not in the training set); networks: ${networks}`);
  const t0 = performance.now();
  const result = await segmentThenSegment(image, { size: o.size, rough, fine, dropPolicy: o.dropPolicy, fallback: o.fallback });
  const ms = performance.now() - t0;
  const baseline = upsampleRough(result.rough, image.width, image.height);
  const rows: [string, ReturnType<typeof imageMetrics>][] = [
    ['baseline (rough mask upsampled)', imageMetrics(baseline, truth)],
    [`Segment-then-Segment (${result.boxes.length} crops)`, imageMetrics(result.mask, truth)],
  ];
  let timing = `Segment-then-Segment took ${ms.toFixed(0)} ms`;

  // The same image with the catalog's pretrained nuclei pair (paper epochs), when the catalog has it.
  if (!o.standIn && (await catalogNames()).includes(PRETRAINED)) {
    const pair = await loadModelPair(PRETRAINED);
    const t1 = performance.now();
    const pretrained = await segmentThenSegment(image, {
      size: pair.size, rough: pair.rough.network(), fine: pair.fine.network(), dropPolicy: o.dropPolicy, fallback: o.fallback,
    });
    timing += `; with the pretrained ${PRETRAINED} pair ${(performance.now() - t1).toFixed(0)} ms`;
    rows.push(
      [`pretrained ${PRETRAINED}: baseline`, imageMetrics(upsampleRough(pretrained.rough, image.width, image.height), truth)],
      [`pretrained ${PRETRAINED}: StS (${pretrained.boxes.length} crops)`, imageMetrics(pretrained.mask, truth)],
    );
  }
  log(`\n${'method'.padEnd(40)}${METRIC_NAMES.map((m) => m.padStart(11)).join('')}`);
  for (const [name, m] of rows) log(`${name.padEnd(40)}${METRIC_NAMES.map((k) => m[k].toFixed(3).padStart(11)).join('')}`);
  log(`\n${timing}`);

  const picture = sideBySide([
    overlay(image, { outline: { mask: truth, color: [255, 60, 60] } }),
    overlay(image, { fill: { mask: baseline, color: [80, 160, 255] }, outline: { mask: truth, color: [255, 60, 60] } }),
    overlay(image, {
      fill: { mask: result.mask, color: [60, 220, 90] },
      outline: { mask: truth, color: [255, 60, 60] },
      boxes: { boxes: result.boxes, color: [255, 220, 0] },
    }),
  ]);
  await writeMaskPng(join(o.out, 'mask-sts.png'), result.mask);
  await writeMaskPng(join(o.out, 'mask-baseline.png'), baseline);
  await writePng(join(o.out, 'overlay.png'), picture);
  log(`wrote ${join(o.out, 'overlay.png')} (truth outlined red | baseline blue | StS green, crop boxes yellow), mask-sts.png, mask-baseline.png`);
}
