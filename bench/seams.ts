/**
 * `npm run bench:seams [-- --size 8000 --seed 2 --model nuclei]`: nuclei cut in pieces by tile and crop borders on a
 * slide-sized mosaic of held-out DSB2018 images (bench/mosaic.ts, with its per-nucleus truth from `instances/`),
 * Segment-then-Segment beside sliding-window tiling, in one run on one engine.
 *
 * - Segment-then-Segment: the instance pair as `sts predict --model <pair>` runs it on the mosaic (the streaming
 *   pipeline with the pair's training scale), its objects the ones objects.csv and labels.tif get (`objectLabelMap`,
 *   the same code as predict-image.ts); with the default options, and with `--within-rough --rough-only-up-to 64`
 *   (the slide settings of docs/results/large-images.md). Borders: every crop's four sides (boxes kept rough too).
 * - Sliding-window tiling: the same fine network on a regular grid of non-overlapping S x S tiles of the
 *   full-resolution image (edge tiles padded with black), each tile's foreground and cores split into objects inside
 *   the tile (instances/split-by-cores.ts, the pipeline's defaults), no stitching: what tiled inference gives a user.
 *   Borders: the grid. A tile of one flat colour reuses the answer for that colour (as the rough pass does).
 * Scored over the whole mosaic as one image (metrics/instances.ts: AP@0.5, AP@0.75, mean AP 0.5:0.95, merged,
 * split) and by the seam count (bench/seam-count.ts: true nuclei in two or more pieces of >= 10% each, and those
 * whose pieces are divided along a border). Writes bench/results/seams.json. Flags: --size, --seed, --model
 * (a catalog name or rough,fine folders), --data, --split (whose test and validation images the mosaic may hold),
 * --cache (mosaics, shared with bench:large), --batch.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadModelPair } from '../src/catalog/catalog.js';
import { initEngine } from '../src/engine/backend.js';
import { cropResize } from '../src/geometry/crop.js';
import type { LabelMap } from '../src/geometry/label-map.js';
import type { Raster } from '../src/geometry/raster.js';
import { splitByCores } from '../src/instances/split-by-cores.js';
import { openImageSource } from '../src/io/file-image-source.js';
import { readLabelMap } from '../src/io/label-maps.js';
import { instanceMetrics } from '../src/metrics/instances.js';
import { packageRoot } from '../src/paths.js';
import { objectLabelMap, quantise } from '../src/pipeline/fine-results.js';
import { DEFAULT_DROP_POLICY } from '../src/pipeline/segment-then-segment.js';
import { streamingSegmentThenSegment } from '../src/pipeline/streaming-sts.js';
import type { ImageSource } from '../src/types/image-source.js';
import type { SegmentationNetwork } from '../src/types/network.js';
import { pairPassOfModels, scaleForPixelSize } from '../src/types/training-scale.js';
import { heldOutImages, mosaic } from './mosaic.js';
import { type Borders, boxBorders, gridBorders, seamCount } from './seam-count.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const size = Number(flag('--size', '8000'));
const seed = Number(flag('--seed', '2'));
const model = flag('--model', 'nuclei');
const data = flag('--data', join(packageRoot, '..', 'shared', 'data', 'dsb2018'));
const split = flag('--split', join(packageRoot, 'models', 'nuclei', 'split.json'));
const cache = flag('--cache', join(homedir(), '.cache', 'sts-bench-large'));
const batch = Number(flag('--batch', '32'));
const log = (line: string) => console.error(`[bench:seams] ${line}`);
const round = (v: number) => Math.round(v * 1000) / 1000;

const engine = await initEngine({ warn: log });
sharp.concurrency(engine.threads);
sharp.cache(false);
const m = await mosaic(size, seed, { data, cache, images: await heldOutImages(split, 'give --split the split.json of the pair'), log });
const truth = await readLabelMap(m.labels);
const [roughPath, finePath] = model.split(',');
const pair = await loadModelPair(finePath ? { rough: roughPath, fine: finePath } : roughPath);
// As sts predict: boxes over the fine network's recorded --max-crop are segmented as S x S windows.
const { scale, tileAbove, maxCropSide } = pairPassOfModels(pair.rough.metadata, pair.fine.metadata, { tiling: true });
const networks = { rough: pair.rough.network({ batchSize: batch }), fine: pair.fine.network({ batchSize: batch }) };
const S = pair.size;
const source = await openImageSource(m.image, { channels: pair.channels });
log(`${size} x ${size} mosaic of ${m.images} held-out images (${(m.coverage * 100).toFixed(1)}% covered); pair ${model}, S = ${S}; ${engine.backend}, ${engine.threads} thread(s)`);

/** Everything measured of one method's label map. */
function score(name: string, labels: LabelMap, borders: Borders, seconds: number, extra: Record<string, unknown>) {
  const metrics = instanceMetrics(labels, truth);
  const seams = seamCount(labels, truth, borders);
  let both = 0;
  let either = 0;
  for (let i = 0; i < labels.data.length; i++) {
    const p = labels.data[i] !== 0;
    const t = truth.data[i] !== 0;
    if (p && t) both++;
    if (p || t) either++;
  }
  const row = {
    seconds: round(seconds),
    ap50: round(metrics.ap50),
    ap75: round(metrics.ap75),
    meanAp: round(metrics.meanAp),
    merged: round(metrics.merged),
    split: round(metrics.split),
    trueObjects: metrics.trueObjects,
    predictedObjects: metrics.predictedObjects,
    fragmented: seams.fragmented,
    fragmentedShare: round(seams.fragmented / seams.trueObjects),
    cutByBorder: seams.cutByBorder,
    cutByBorderShare: round(seams.cutByBorder / seams.trueObjects),
    dsc: round((2 * both) / (both + either)),
    ...extra,
  };
  console.log(
    `${name}: ${row.cutByBorder} of ${row.trueObjects} true nuclei cut by a border (${(100 * row.cutByBorderShare).toFixed(2)}%), ${row.fragmented} in two or more pieces ` +
      `(${(100 * row.fragmentedShare).toFixed(2)}%); AP@0.5 ${row.ap50.toFixed(3)}, AP@0.75 ${row.ap75.toFixed(3)}, mean AP ${row.meanAp.toFixed(3)}, ` +
      `merged ${(100 * row.merged).toFixed(1)}%, split ${(100 * row.split).toFixed(1)}%, ${row.predictedObjects} objects, DSC ${row.dsc.toFixed(3)}, ${row.seconds.toFixed(0)} s`,
  );
  return row;
}

// (a) Segment-then-Segment, as sts predict runs it: with its default options, and with the options the large-image
// benchmark chose for slides (docs/results/large-images.md).
async function segmentThenSegment(name: string, options: { withinRough?: boolean; roughOnlyUpTo?: number }) {
  const started = performance.now();
  const sts = await streamingSegmentThenSegment(source, {
    size: S,
    ...networks,
    scale: scaleForPixelSize(scale, source.pixelSizeUm),
    tileAbove,
    maxCropSide,
    batchSize: batch,
    dropPolicy: DEFAULT_DROP_POLICY,
    resizeMode: 'nearest',
    ...options,
  });
  if (!sts.instances) throw new Error(`${model}: its fine network gives no object cores; bench:seams needs an instance pair`);
  const labels = objectLabelMap(sts, size, size);
  return score(name, labels, boxBorders(sts.results.map((r) => r.box), size, size), (performance.now() - started) / 1000, {
    options,
    crops: sts.results.length - sts.roughOnly,
    roughOnlyBoxes: sts.roughOnly,
    roughTiles: sts.rough.tiles,
  });
}
const stsRow = await segmentThenSegment('Segment-then-Segment', {});
const slideRow = await segmentThenSegment('Segment-then-Segment --within-rough --rough-only-up-to 64', { withinRough: true, roughOnlyUpTo: 64 });

// (b) Sliding-window tiling: non-overlapping S x S tiles at full resolution, each split into objects on its own.
const t = performance.now();
const tiled = await slidingWindow(source, networks.fine, S);
const tilingRow = score('sliding-window tiling', tiled.labels, gridBorders(S), (performance.now() - t) / 1000, { tiles: tiled.tiles, flatTiles: tiled.flatTiles });

networks.rough.dispose();
networks.fine.dispose();
await source.close();
const results = {
  date: new Date().toISOString(),
  command: `npm run bench:seams -- ${args.join(' ')}`.trim(),
  engine: engine.backend,
  threads: engine.threads,
  model,
  S,
  mosaic: { width: size, height: size, seed, images: m.images, coverage: round(m.coverage), trueNuclei: stsRow.trueObjects },
  rule: 'fragmented: two or more predicted objects each cover >= 10% of the true nucleus; cut by a border: also at least half of the pixel edges dividing its pieces lie on a tile (tiling) or crop (StS) border',
  sts: stsRow,
  stsSlideOptions: slideRow,
  tiling: tilingRow,
};
await mkdir(join(packageRoot, 'bench', 'results'), { recursive: true });
await writeFile(join(packageRoot, 'bench', 'results', 'seams.json'), `${JSON.stringify(results, null, 2)}\n`);

/** The tiling baseline's label map: each tile's objects numbered after the previous tiles'. */
async function slidingWindow(image: ImageSource, fine: SegmentationNetwork, tile: number): Promise<{ labels: LabelMap<Int32Array>; tiles: number; flatTiles: number }> {
  const { width, height } = image;
  const labels = new Int32Array(width * height);
  const flat = new Map<string, ArrayLike<number>>();
  let next = 0;
  let tiles = 0;
  let flatTiles = 0;
  for (let top = 0; top < height; top += tile) {
    const rows = Math.min(tile, height - top);
    const band = await image.read({ left: 0, top, width, height: rows });
    const crops: Raster<Float32Array>[] = [];
    const lefts: number[] = [];
    for (let left = 0; left < width; left += tile) {
      crops.push(cropResize(band, { left, top: 0, width: tile, height: tile }, tile, tile, 'nearest'));
      lefts.push(left);
    }
    // Flat tiles (the mosaic's background) get the answer computed once for their colour.
    const keys = crops.map((c) => (c.data.every((v) => v === c.data[0]) ? String(c.data[0]) : undefined));
    const run = crops.filter((_, k) => keys[k] === undefined || !flat.has(keys[k]!));
    const answers = run.length > 0 ? await fine(run) : [];
    let a = 0;
    tiles += crops.length;
    for (let k = 0; k < crops.length; k++) {
      const key = keys[k];
      let map: ArrayLike<number>;
      if (key !== undefined && flat.has(key)) {
        map = flat.get(key)!;
        flatTiles++;
      } else {
        map = answers[a++];
        if (key !== undefined) flat.set(key, map);
      }
      // The pipeline's thresholds: the quantised maps at >= 128 of 255 (foreground and core alike).
      const fg = quantise(map, 0, 2, tile * tile).map((v) => (v >= 128 ? 1 : 0));
      const core = quantise(map, 1, 2, tile * tile).map((v) => (v >= 128 ? 1 : 0));
      const objects = splitByCores(fg, core, tile, tile);
      const left = lefts[k];
      for (let y = 0; y < rows; y++) {
        for (let x = 0; x < Math.min(tile, width - left); x++) {
          const v = objects.data[y * tile + x];
          if (v !== 0) labels[(top + y) * width + left + x] = v + next;
        }
      }
      next += objects.count;
    }
    if (top % (tile * 16) === 0) log(`tiling: row ${top} of ${height}`);
  }
  return { labels: { width, height, data: labels }, tiles, flatTiles };
}
