/**
 * `sts demo`: Segment-then-Segment on a real DSB2018 nuclei image shipped with the package, against the baseline
 * (rough mask upsampled), scored against the image's ground truth, with a picture of both.
 *
 * Until trained networks land, both networks are the non-learned Otsu threshold segmenter: the demo shows the
 * method's geometry (downscale, components, context crops, fusion) on real data, not the paper's accuracy.
 */
import { join } from 'node:path';
import { readImage, readMask, writeMaskPng, writePng } from '../../data/image-io.js';
import { overlay, sideBySide } from '../../data/overlay.js';
import type { DropPolicy } from '../../geometry/boxes.js';
import { assertSameSize } from '../../geometry/raster.js';
import { imageMetrics, METRIC_NAMES } from '../../metrics/metrics.js';
import { thresholdSegmenter } from '../../models/threshold-segmenter.js';
import { packageRoot } from '../../paths.js';
import { type Fallback, segmentThenSegment, upsampleRough } from '../../pipeline/segment-then-segment.js';

export interface DemoOptions {
  readonly image: string;
  readonly mask: string;
  readonly size: number;
  readonly out: string;
  readonly dropPolicy: DropPolicy;
  readonly fallback: Fallback;
}

export const demoDefaults = {
  image: join(packageRoot, 'assets/demo/dsb2018-image.png'),
  mask: join(packageRoot, 'assets/demo/dsb2018-mask.png'),
  size: 64,
  out: 'out/demo',
};

export async function runDemo(o: DemoOptions, log: (line: string) => void = console.log): Promise<void> {
  const image = await readImage(o.image);
  const truth = await readMask(o.mask);
  assertSameSize(image, truth, `image ${o.image}`, `mask ${o.mask}`);
  log(`image ${o.image}: ${image.width} x ${image.height}; S = ${o.size}; networks: Otsu threshold stand-ins (not trained)`);

  const network = thresholdSegmenter();
  const t0 = performance.now();
  const result = await segmentThenSegment(image, { size: o.size, rough: network, fine: network, dropPolicy: o.dropPolicy, fallback: o.fallback });
  const ms = performance.now() - t0;
  const baseline = upsampleRough(result.rough, image.width, image.height);

  const rows = [
    ['baseline (rough mask upsampled)', imageMetrics(baseline, truth)],
    [`Segment-then-Segment (${result.boxes.length} crops)`, imageMetrics(result.mask, truth)],
  ] as const;
  log(`\n${'method'.padEnd(36)}${METRIC_NAMES.map((m) => m.padStart(11)).join('')}`);
  for (const [name, m] of rows) log(`${name.padEnd(36)}${METRIC_NAMES.map((k) => m[k].toFixed(3).padStart(11)).join('')}`);
  log(`\nSegment-then-Segment took ${ms.toFixed(0)} ms`);

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
