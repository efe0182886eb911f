/**
 * `sts demo`: the product first. The catalog's pretrained nuclei pair segments a held-out DSB2018 image, then a
 * slide-sized mosaic of held-out images (a tiled, pyramidal TIFF made once), exactly as `sts predict --model nuclei`
 * does it (the same code: result folders with the overlay, the objects and the label map), and each result is
 * scored against its ground truth. `sts demo --train` runs the paper's comparison instead (demo-training.ts): two
 * small networks trained here, the baseline against Segment-then-Segment.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { catalogDir, catalogEntry, catalogNames } from '../../catalog/catalog.js';
import { StsError } from '../../errors.js';
import { assertSameSize } from '../../geometry/raster.js';
import { writeAtomically } from '../../io/atomic-write.js';
import { readImageInfo, readMask } from '../../io/image-files.js';
import { imageMetrics, METRIC_NAMES } from '../../metrics/metrics.js';
import { outputBase } from '../../pipeline/predictor.js';
import type { PredictImageSummary } from '../../pipeline/predict-image.js';
import { runPredict } from './predict.js';
import { demoDefaults, runTrainingDemo, type TrainingDemoOptions } from './demo-training.js';

export { demoDefaults };

export interface DemoOptions extends TrainingDemoOptions {
  /** The paper's comparison with networks trained here, instead of the pretrained pair. */
  readonly train?: boolean;
  /** false (--no-slide): the image only, no mosaic. */
  readonly slide?: boolean;
}

/** The catalog pair the demo runs (models/nuclei: U-Net, S = 64, the paper's epochs, DSB2018). */
const PAIR = 'nuclei';
/** The mosaic's side: a small slide (16.8 megapixels, above the 16 at which sts predict writes a slide's tiled mask.tif), mostly background, as slides are. */
const MOSAIC_SIDE = 4096;

export async function runDemo(o: DemoOptions, signal?: AbortSignal, log: (line: string) => void = console.log): Promise<void> {
  if (o.train || o.standIn) return runTrainingDemo(o, signal, log);
  if (!(await catalogNames()).includes(PAIR)) {
    throw new StsError(`the model catalog (${catalogDir()}) has no ${PAIR} pair, which sts demo runs: unset STS_MODELS_DIR (the package's catalog has it), or run sts demo --train, which trains its own networks`);
  }
  const started = performance.now();
  // Both files named now if they cannot be read, not after the networks ran.
  const [image, truth] = await Promise.all([readImageInfo(o.image), readMask(o.mask)]);
  assertSameSize(image, truth, `image ${o.image}`, `mask ${o.mask}`);
  const rows: [string, Scored][] = [];
  log(`== the catalog's pretrained ${PAIR} pair on a held-out DSB2018 image, as \`sts predict --model ${PAIR} --batch 32 ${basename(o.image)} --out ${o.out}\` runs it`);
  rows.push([`${basename(o.image)}`, await predictAndScore(o.image, o.mask, o, signal)]);
  printRows(rows, log);
  log(`first result after ${((performance.now() - started) / 1000).toFixed(1)} s; look at ${join(rows[0][1].dir, 'overlay.png')}`);

  if (o.slide !== false) {
    const mosaic = await ensureMosaic(o, log);
    log(`\n== the same pair on a slide-sized image: ${mosaic.note}`);
    rows.push([basename(mosaic.image), await predictAndScore(mosaic.image, mosaic.mask, o, signal)]);
    printRows(rows, log);
  }
  log(
    `\nEach result folder holds mask.png (mask.tif for slides), labels.png (one value per nucleus), objects.geojson (QuPath), objects.csv, overlay.png and summary.json.` +
      `\nThe paper's comparison, the baseline (the rough mask upsampled) against Segment-then-Segment with networks trained here: sts demo --train`,
  );
}

interface Scored {
  readonly dir: string;
  readonly summary: PredictImageSummary;
  readonly metrics: ReturnType<typeof imageMetrics>;
}

/** `sts predict --model nuclei <image>` into o.out, then its mask scored against `truthPath`. */
async function predictAndScore(image: string, truthPath: string, o: DemoOptions, signal?: AbortSignal): Promise<Scored> {
  await runPredict([image], { model: PAIR, out: o.out, batch: 32, tiling: true, dropPolicy: o.dropPolicy, resize: 'nearest' }, signal);
  const dir = join(o.out, outputBase(image));
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as PredictImageSummary;
  const maskFile = summary.files.find((f) => f.startsWith('mask.'));
  if (!maskFile) throw new StsError(`${dir}: no mask file in its summary.json; delete the folder and run sts demo again`);
  const [mask, truth] = await Promise.all([readMask(join(dir, maskFile)), readMask(truthPath)]);
  assertSameSize(truth, mask, `truth ${truthPath}`, `mask ${join(dir, maskFile)}`);
  return { dir, summary, metrics: imageMetrics(mask, truth) };
}

function printRows(rows: readonly [string, Scored][], log: (line: string) => void): void {
  const head = ['size', 'objects', 'crops', 'seconds', ...METRIC_NAMES];
  log(`\n${'image'.padEnd(28)}${head.map((h) => h.padStart(h === 'size' ? 14 : 10)).join('')}`);
  for (const [name, { summary: s, metrics }] of rows) {
    const size = `${s.width} x ${s.height}`;
    const cells = [size.padStart(14), String(s.objects).padStart(10), String(s.boxes - s.roughOnly).padStart(10), s.seconds.toFixed(1).padStart(10), ...METRIC_NAMES.map((k) => metrics[k].toFixed(3).padStart(10))];
    log(`${(name.length > 27 ? `${name.slice(0, 24)}...` : name).padEnd(28)}${cells.join('')}`);
  }
  log(`(objects: nuclei found; DSC, IoU, precision and recall of the mask against the ground truth)`);
}

interface Mosaic {
  readonly image: string;
  readonly mask: string;
  readonly note: string;
}

/**
 * A MOSAIC_SIDE x MOSAIC_SIDE tiled, pyramidal TIFF with the held-out images laid out on black (the demo image and
 * the training-set images in the pair's test split), and its truth mask; made once in <out>/mosaic-input/.
 */
async function ensureMosaic(o: DemoOptions, log: (line: string) => void): Promise<Mosaic> {
  const dir = join(o.out, 'mosaic-input');
  const image = join(dir, 'dsb2018-mosaic.tif');
  const mask = join(dir, 'dsb2018-mosaic-mask.png');
  const pieces = await heldOutPieces(o);
  const note = `${MOSAIC_SIDE.toLocaleString('en-US')} x ${MOSAIC_SIDE.toLocaleString('en-US')} pixels, a tiled pyramidal TIFF with ${pieces.length} held-out DSB2018 images on black (${image})`;
  if (existsSync(image) && existsSync(mask)) return { image, mask, note };
  log(`making ${image} and its truth mask (once)`);
  const cells = Math.ceil(Math.sqrt(pieces.length));
  const cell = Math.floor(MOSAIC_SIDE / cells);
  const placed = await Promise.all(pieces.map(async (p, i) => {
    const { width, height } = await readImageInfo(p.image);
    // Each piece in the middle of its grid cell, so the rough pass sees background on every side.
    const left = (i % cells) * cell + Math.max(0, Math.floor((cell - width) / 2));
    const top = Math.floor(i / cells) * cell + Math.max(0, Math.floor((cell - height) / 2));
    return { ...p, left, top };
  }));
  const canvas = () => sharp({ create: { width: MOSAIC_SIDE, height: MOSAIC_SIDE, channels: 3, background: { r: 0, g: 0, b: 0 } }, limitInputPixels: false });
  await writeAtomically(image, async (tmp) => {
    await canvas()
      .composite(await Promise.all(placed.map(async (p) => ({ input: await sharp(p.image).removeAlpha().toColourspace('srgb').toBuffer(), left: p.left, top: p.top }))))
      .tiff({ tile: true, tileWidth: 256, tileHeight: 256, pyramid: true, compression: 'deflate' })
      .toFile(tmp);
  });
  await writeAtomically(mask, async (tmp) => {
    await canvas()
      .composite(placed.map((p) => ({ input: p.mask, left: p.left, top: p.top })))
      .toColourspace('b-w')
      .png()
      .toFile(tmp);
  });
  return { image, mask, note };
}

/** The demo image and those of the demo training set that the pair held out (the test part of its split). */
async function heldOutPieces(o: DemoOptions): Promise<{ image: string; mask: string }[]> {
  const pieces = [{ image: o.image, mask: o.mask }];
  const { split } = await catalogEntry(PAIR);
  if (!split) return pieces;
  const test = (JSON.parse(await readFile(split, 'utf8')) as { test?: string[] }).test ?? [];
  for (const id of test) {
    const image = join(o.trainSet, 'images', `${id}.png`);
    const mask = join(o.trainSet, 'masks', `${id}.png`);
    if (existsSync(image) && existsSync(mask)) pieces.push({ image, mask });
  }
  return pieces;
}
