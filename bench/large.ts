/**
 * `npm run bench:large`: streaming Segment-then-Segment on slide-sized mosaics of real DSB2018 images.
 *
 * - scale: a W x W RGB tiled pyramidal TIFF (default 40,000) where held-out DSB2018 images cover about a tenth of the
 *   area on a black background, with the matching mask mosaic as truth: wall time, megapixels per second, peak RSS
 *   and DSC of `predictImage` (all outputs written).
 * - comparison: an 8,000 x 8,000 mosaic of the same kind, Segment-then-Segment against sliding-window tiling at full
 *   resolution with the fine network on S x S tiles (same overlap and batching), both to an in-memory mask.
 *
 * Mosaics are built once and cached (default ~/.cache/sts-bench-large); each measurement then runs in its own child
 * process, so that its peak RSS is the prediction's alone. Models: `--models <dir>` holding rough/ and
 * fine/ run folders of `sts train` on DSB2018 (their best/ models; the mosaics use the runs' test and validation
 * images only), or `--model <name|folder>`, a catalog pair or pair folder (the mosaics use its split.json's test and
 * validation images; an instance pair's scale run also writes the slide's labels.tif). Flags: --size <W> for the scale run, --compare <W>, --skip-scale, --skip-compare, --mosaics-only, --max-crop <px>,
 * --within-rough (the fine masks bounded by the rough mask; see streaming-sts.ts), --rough-only-up-to <rough px>.
 */
import { spawnSync } from 'node:child_process';
import { jemallocEnv } from '../src/engine/allocator.js';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { openImageSource } from '../src/io/file-image-source.js';
import type {  } from '../src/types/image-source.js';
import { maxCropOfMetadata, roughInputOfMetadata, scaleOfMetadata } from '../src/types/training-scale.js';
import { initEngine } from '../src/engine/backend.js';
import { loadModel } from '../src/engine/model-files.js';
import { packageRoot } from '../src/paths.js';
import { downscaleReader } from '../src/pipeline/downscale-reader.js';
import { renderRegion } from '../src/pipeline/fine-results.js';
import { modelNetwork } from '../src/pipeline/model-network.js';
import { catalogEntry, loadModelPair } from '../src/catalog/catalog.js';
import type { SegmentationNetwork } from '../src/types/network.js';
import { predictImage } from '../src/pipeline/predict-image.js';
import { streamingSegmentThenSegment } from '../src/pipeline/streaming-sts.js';
import { tiledRough } from '../src/pipeline/tiled-rough.js';
import { type Placement, heldOutImages, layout, mosaic as buildMosaic } from './mosaic.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const scaleSize = Number(flag('--size', '40000'));
const compareSize = Number(flag('--compare', '8000'));
const models = flag('--models', '/tmp/large-models');
/** A catalog pair or pair folder instead of --models (e.g. nuclei, the instance pair); its split.json holds out the mosaic's images. */
const pairName = args.includes('--model') ? flag('--model', '') : undefined;
const data = flag('--data', join(packageRoot, '..', 'shared', 'data', 'dsb2018'));
const cache = flag('--cache', join(homedir(), '.cache', 'sts-bench-large'));
const batch = Number(flag('--batch', '8'));
const givenMaxCrop = args.includes('--max-crop') ? Number(flag('--max-crop', '')) : undefined;
const withinRough = args.includes('--within-rough');
const roughOnlyUpTo = args.includes('--rough-only-up-to') ? Number(flag('--rough-only-up-to', '')) : undefined;
const log = (line: string) => console.error(`[bench:large] ${line}`);

interface Counts { tp: number; fp: number; fn: number }
const dscOf = (c: Counts) => (c.tp + c.fp + c.fn === 0 ? 1 : (2 * c.tp) / (2 * c.tp + c.fp + c.fn));

/**
 * DSC of a prediction (rows supplied band by band) against a truth TIFF, read band by band; with `regions`, also the
 * counts inside each region (the mosaic's images) and the false positives outside all of them.
 */
async function dsc(
  truthPath: string,
  size: number,
  prediction: (top: number, rows: number) => Promise<Uint8Array>,
  regions: readonly Placement[] = [],
): Promise<{ dsc: number; regions: Counts[]; outsideFp: number }> {
  const truth = await openImageSource(truthPath, { channels: 1 });
  // Counts by 2 * predicted + truth: [true negatives, false negatives, false positives, true positives].
  const all = new Float64Array(4);
  const per = regions.map(() => new Float64Array(4));
  // Which region (index + 1) covers each pixel of a row: 0 outside all.
  const owner = new Int32Array(size);
  for (let top = 0; top < size; top += 1024) {
    const rows = Math.min(1024, size - top);
    const t = (await truth.read({ left: 0, top, width: size, height: rows })).data;
    const p = await prediction(top, rows);
    for (let r = 0; r < rows; r++) {
      if (regions.length > 0) {
        const y = top + r;
        owner.fill(0);
        regions.forEach((g, k) => {
          if (y >= g.top && y < g.top + g.height) owner.fill(k + 1, g.left, g.left + g.width);
        });
      }
      for (let x = 0, i = r * size; x < size; x++, i++) {
        const c = (p[i] >= 1 ? 2 : 0) + (t[i] >= 128 ? 1 : 0);
        all[c]++;
        if (owner[x] > 0) per[owner[x] - 1][c]++;
      }
    }
  }
  const counts = (a: Float64Array): Counts => ({ tp: a[3], fp: a[2], fn: a[1] });
  const inside = per.reduce((s, a) => s + a[2], 0);
  return { dsc: dscOf(counts(all)), regions: per.map(counts), outsideFp: all[2] - inside };
}

/**
 * Each measurement runs in a child process of its own (`--part compare|scale`), after the mosaics exist: its peak
 * RSS is then the prediction's alone, not the mosaic building's or the other measurement's.
 */
/** The models' held-out (test and validation) images: the only ones a mosaic may hold. */
const heldOut = async () =>
  pairName
    ? heldOutImages((await catalogEntry(pairName)).split ?? fail(`${pairName} records no split.json: bench:large needs its held-out images`), 'the pair\'s split.json')
    : heldOutImages(join(models, 'rough', 'split.json'), 'give --models a folder with rough/ and fine/ runs of sts train');
const mosaic = async (size: number, seed: number) => buildMosaic(size, seed, { data, cache, images: await heldOut(), log });

/** The pair's networks: a catalog pair or pair folder (--model), else the best models of the runs in --models. */
async function loadNetworks(): Promise<{ rough: { metadata: Record<string, unknown> }; fine: { metadata: Record<string, unknown> }; size: number; networks: { rough: SegmentationNetwork; fine: SegmentationNetwork } }> {
  if (pairName) {
    const pair = await loadModelPair(pairName);
    return { rough: pair.rough, fine: pair.fine, size: pair.size, networks: { rough: pair.rough.network({ batchSize: batch }), fine: pair.fine.network({ batchSize: batch }) } };
  }
  const rough = await loadModel(join(models, 'rough', 'best'));
  const fine = await loadModel(join(models, 'fine', 'best'));
  const size = (rough.model.inputs[0].shape[1] as number) ?? 64;
  return { rough, fine, size, networks: { rough: modelNetwork(rough.model, { batchSize: batch, ownsModel: true }), fine: modelNetwork(fine.model, { batchSize: batch, ownsModel: true }) } };
}

function fail(message: string): never {
  throw new Error(message);
}

async function measure(part: 'compare' | 'scale'): Promise<Record<string, unknown>> {
  const engine = await initEngine({ warn: null });
  sharp.concurrency(engine.threads);
  sharp.cache(false);
  const { rough, fine, size, networks } = await loadNetworks();
  // As sts predict: the fine network's recorded --max-crop unless one is given.
  const maxCropSide = givenMaxCrop ?? maxCropOfMetadata(fine.metadata);
  const scale = scaleOfMetadata(rough.metadata);
  if (!scale) throw new Error(`${pairName ?? `${models}/rough/best`} has no training scale in its metadata; train it with this version of sts train`);
  // A rough network trained at its fixed scale tiles every image (as sts predict does); here every image is large.
  const tileAbove = roughInputOfMetadata(rough.metadata) === 'fixed-scale' ? 0 : undefined;
  const common = { ...(pairName ? { model: pairName } : {}), engine: engine.backend, threads: engine.threads, malloc: engine.malloc, S: size, scale, rough_input: roughInputOfMetadata(rough.metadata), max_crop: maxCropSide ?? null, within_rough: withinRough, rough_only_up_to: roughOnlyUpTo ?? null, batch };
  if (part === 'compare') {
    const m = await mosaic(compareSize, 2);
    const places = await layout(compareSize, await heldOut(), 2, data); // the mosaic's own layout (deterministic)
    const source = await openImageSource(m.image);
    let t = performance.now();
    const sts = await streamingSegmentThenSegment(source, { size, ...networks, scale, tileAbove, maxCropSide, withinRough, roughOnlyUpTo, batchSize: batch });
    const stsSeconds = (performance.now() - t) / 1000;
    const stsScore = await dsc(m.truth, compareSize, async (top, rows) => renderRegion(sts, { left: 0, top, width: compareSize, height: rows }).data, places);
    const stsDsc = stsScore.dsc;
    log(`comparison StS: ${stsSeconds.toFixed(1)} s, DSC ${stsDsc.toFixed(4)} (${sts.boxes.length - sts.roughOnly} crops, ${sts.roughOnly} boxes kept rough, ${sts.rough.tiles} rough tiles)`);
    t = performance.now();
    const tiling = await tiledRough(downscaleReader(source, compareSize, compareSize), { size, network: networks.fine, batchSize: batch });
    const tilingSeconds = (performance.now() - t) / 1000;
    const tilingScore = await dsc(m.truth, compareSize, async (top, rows) => tiling.mask.data.subarray(top * compareSize, (top + rows) * compareSize), places);
    const tilingDsc = tilingScore.dsc;
    log(`comparison tiling: ${tilingSeconds.toFixed(1)} s, DSC ${tilingDsc.toFixed(4)} (${tiling.tiles} tiles, ${tiling.flatTiles} flat)`);
    // Where the two differ: each held-out image of the mosaic, largest share of the difference first.
    const perImage = places.map((p, k) => ({
      image: p.name, width: p.width, height: p.height, truth_px: stsScore.regions[k].tp + stsScore.regions[k].fn,
      sts: { dsc: round(dscOf(stsScore.regions[k])), fp: stsScore.regions[k].fp, fn: stsScore.regions[k].fn },
      tiling: { dsc: round(dscOf(tilingScore.regions[k])), fp: tilingScore.regions[k].fp, fn: tilingScore.regions[k].fn },
    }));
    const errors = (c: { fp: number; fn: number }) => c.fp + c.fn;
    const worst = [...perImage].sort((a, b) => errors(b.sts) - errors(b.tiling) - (errors(a.sts) - errors(a.tiling))).slice(0, 5);
    for (const w of worst) log(`  ${w.image} (${w.width} x ${w.height}): StS DSC ${w.sts.dsc} (${errors(w.sts)} px wrong), tiling ${w.tiling.dsc} (${errors(w.tiling)} px wrong)`);
    log(`  false positives outside the images: StS ${stsScore.outsideFp} px, tiling ${tilingScore.outsideFp} px`);
    return {
      ...common,
      comparison: {
        width: compareSize,
        height: compareSize,
        coverage: m.coverage,
        sts: { wall_s: round(stsSeconds), dsc: round(stsDsc), crops: sts.boxes.length - sts.roughOnly, rough_only_boxes: sts.roughOnly, rough_tiles: sts.rough.tiles, rough_flat_tiles: sts.rough.flatTiles },
        tiling: { wall_s: round(tilingSeconds), dsc: round(tilingDsc), tiles: tiling.tiles, flat_tiles: tiling.flatTiles },
        speedup: round(tilingSeconds / stsSeconds),
        outside_fp: { sts: stsScore.outsideFp, tiling: tilingScore.outsideFp },
        per_image: perImage,
      },
    };
  }
  const m = await mosaic(scaleSize, 1);
  const out = join(cache, 'out', `scale-${scaleSize}`);
  await rm(out, { recursive: true, force: true });
  const rssBefore = process.resourceUsage().maxRSS / 1024;
  const t = performance.now();
  const summary = await predictImage(m.image, out, { size, channels: 3, ...networks, scale, tileAbove, maxCropSide, withinRough, roughOnlyUpTo, batchSize: batch });
  const seconds = (performance.now() - t) / 1000;
  const peak = process.resourceUsage().maxRSS / 1024;
  const predicted = await openImageSource(join(out, 'mask.tif'), { channels: 1 });
  const d = (await dsc(m.truth, scaleSize, async (top, rows) =>
    (await predicted.read({ left: 0, top, width: scaleSize, height: rows })).data.map((v) => (v >= 128 ? 1 : 0)),
  )).dsc;
  log(`scale: ${scaleSize} x ${scaleSize}: ${seconds.toFixed(0)} s, ${((scaleSize * scaleSize) / 1e6 / seconds).toFixed(1)} MP/s, peak RSS ${peak.toFixed(0)} MB (${rssBefore.toFixed(0)} MB before predicting), DSC ${d.toFixed(4)}, ${summary.objects} objects`);
  return {
    ...common,
    width: scaleSize,
    height: scaleSize,
    coverage: m.coverage,
    wall_s: round(seconds),
    mpx_per_s: round((scaleSize * scaleSize) / 1e6 / seconds),
    peak_rss_mb: Math.round(peak),
    peak_rss_before_mb: Math.round(rssBefore),
    dsc: round(d),
    objects: summary.objects,
    object_kind: summary.objectKind,
    label_file: summary.files.find((f) => f.startsWith('labels.')) ?? null,
    boxes: summary.boxes,
    crops: summary.boxes - summary.roughOnly,
    rough_only_boxes: summary.roughOnly,
    rough: summary.rough,
  };
}

const part = flag('--part', '');
if (part === 'compare' || part === 'scale') {
  process.stdout.write(`${JSON.stringify(await measure(part))}\n`);
} else {
  const parts = (['compare', 'scale'] as const).filter((p) => !args.includes(p === 'compare' ? '--skip-compare' : '--skip-scale'));
  // Mosaics first, here: the measuring children then find them cached.
  if (parts.includes('compare')) await mosaic(compareSize, 2);
  if (parts.includes('scale')) await mosaic(scaleSize, 1);
  if (args.includes('--mosaics-only')) process.exit(0);
  // A pair given by --model gets its own results file: large-<pair>.json beside the runs' large.json.
  const resultsPath = join(packageRoot, 'bench', 'results', pairName ? `large-${basename(pairName)}.json` : 'large.json');
  const previous = await readFile(resultsPath, 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>, () => ({}));
  const results: Record<string, unknown> = { ...previous };
  for (const p of parts) {
    // Each part runs on the allocator `sts predict` uses (jemalloc where installed; STS_ALLOCATOR=system: glibc's).
    const env = jemallocEnv(process.env) ?? process.env;
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args, '--part', p], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 24, env });
    if (child.status !== 0) throw new Error(`bench:large: the ${p} measurement failed (exit ${child.status}); see above`);
    Object.assign(results, JSON.parse(child.stdout.trim().split('\n').pop()!));
  }
  await mkdir(join(packageRoot, 'bench', 'results'), { recursive: true });
  await writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
