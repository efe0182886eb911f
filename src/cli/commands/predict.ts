/**
 * `sts predict`: Segment-then-Segment with trained rough and fine models on image files or folders of them, any
 * size. Each image gets its own result folder; finished folders are skipped on a rerun, and an image that cannot
 * be read is reported by name while the others are still processed.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { initEngine } from '../../engine/backend.js';
import type { InferencePrecision } from '../../engine/torch/index.js';
import { roughPassOfModel } from '../../types/training-scale.js';
import { ArgumentError, StsError } from '../../errors.js';
import type { DropPolicy } from '../../geometry/boxes.js';
import type { ResizeMode } from '../../geometry/resize.js';
import { loadModelPair, pairSourceOfOptions } from '../../catalog/catalog.js';
import { modelNetwork } from '../../pipeline/model-network.js';
import { SUMMARY_FILE, predictImage } from '../../pipeline/predict-image.js';
import { formatSeconds, progressBar } from '../progress.js';

export interface PredictCommandOptions {
  /** Number format of inference (else STS_INFERENCE_PRECISION, else float32). */
  readonly precision?: InferencePrecision;
  /** A catalog pair by name, or the two model folders. */
  readonly model?: string;
  readonly rough?: string;
  readonly fine?: string;
  readonly out: string;
  readonly batch: number;
  readonly overlap?: number;
  readonly maxCrop?: number;
  readonly withinRough?: boolean;
  readonly roughOnlyUpTo?: number;
  readonly scale?: number;
  readonly tiling: boolean;
  readonly dropPolicy: DropPolicy;
  readonly resize: ResizeMode;
}

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.tif', '.tiff'];

/** The image files named on the command line, folders expanded to the images they hold (sorted, not recursive). */
export async function listInputs(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => {
      throw new StsError(`${p}: no such file or folder; give image files or folders of images`);
    });
    if (s.isDirectory()) {
      const names = (await readdir(p)).filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()) && !n.startsWith('.')).sort();
      if (names.length === 0) throw new StsError(`${p}: no PNG, JPEG or TIFF files in this folder`);
      files.push(...names.map((n) => join(p, n)));
    } else files.push(p);
  }
  return files;
}

/** Result folder names: the file name without its extension, made unique when two inputs share one. */
export function outputNames(files: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return files.map((f) => {
    const base = basename(f, extname(f)).replace(/\.ome$/i, '');
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
}

export async function runPredict(inputs: string[], o: PredictCommandOptions, signal?: AbortSignal): Promise<void> {
  if (o.roughOnlyUpTo !== undefined && !o.withinRough) {
    throw new ArgumentError('--rough-only-up-to', 'needs --within-rough (the rough mask is what the boxes kept rough draw)');
  }
  const bar = progressBar();
  const files = await listInputs(inputs);
  const engine = await initEngine({ warn: (line) => bar.log(line), inferencePrecision: o.precision });
  // libvips follows the engine's thread budget and keeps no cache: windows are read once each.
  sharp.concurrency(engine.threads);
  sharp.cache(false);
  const pair = await loadModelPair(pairSourceOfOptions(o));
  const { rough, fine } = pair;
  const r = { size: pair.size, channels: pair.channels };
  if (pair.entry) bar.log(`model: the catalog's ${pair.entry.name} pair (${pair.entry.card})`);
  const { scale, tileAbove } = roughPassOfModel(rough.metadata, { scale: o.scale, tiling: o.tiling });
  bar.log(
    `engine: ${engine.backend}, ${engine.threads} threads, ${engine.malloc} malloc, ${engine.inferencePrecision} inference; S = ${r.size}; ` +
      (scale ? `rough scale ${scale.factorX.toFixed(2)} x ${scale.factorY.toFixed(2)} original pixels per input pixel` : 'no training scale: every image gets one S x S rough pass'),
  );
  // Made once for all images: each folds its model on first use and lets the original go.
  const networks = {
    rough: modelNetwork(rough.model, { batchSize: o.batch, ownsModel: true }),
    fine: modelNetwork(fine.model, { batchSize: o.batch, ownsModel: true }),
  };
  const names = outputNames(files);
  let failed = 0;
  for (let i = 0; i < files.length; i++) {
    signal?.throwIfAborted();
    const file = files[i];
    const dir = join(o.out, names[i]);
    if (await stat(join(dir, SUMMARY_FILE)).then(() => true, () => false)) {
      bar.log(`${file}: done before (${dir}), skipped`);
      continue;
    }
    try {
      let stage = '';
      const summary = await predictImage(file, dir, {
        size: r.size,
        channels: r.channels as 1 | 3,
        ...networks,
        scale,
        tileAbove,
        overlap: o.overlap,
        maxCropSide: o.maxCrop,
        withinRough: o.withinRough === true,
        roughOnlyUpTo: o.roughOnlyUpTo,
        batchSize: o.batch,
        dropPolicy: o.dropPolicy,
        resizeMode: o.resize,
        signal,
        onProgress: ({ stage: s, done, total }) => {
          if (s !== stage) {
            stage = s;
            bar.start(total, `${basename(file)} ${s}`);
          }
          bar.update(done);
        },
      });
      bar.stop();
      bar.log(
        `${file}: ${summary.objects} objects, ${summary.width} x ${summary.height}, rough ${summary.rough.mode}` +
          `${summary.rough.mode === 'tiled' ? ` (${summary.rough.tiles} tiles)` : ''}, ${summary.boxes - summary.roughOnly} crops${summary.roughOnly > 0 ? ` (${summary.roughOnly} boxes kept rough)` : ''}, ${formatSeconds(summary.seconds)} -> ${dir}`,
      );
    } catch (error) {
      bar.stop();
      if (signal?.aborted) throw error;
      failed++;
      const message = error instanceof StsError ? error.message : `${file}: ${(error as Error).message}`;
      bar.log(`error: ${message.startsWith(file) ? message : `${file}: ${message}`}`);
    }
  }
  if (failed > 0) throw new StsError(`${failed} of ${files.length} images failed (named above); the others are in ${o.out}`);
}
