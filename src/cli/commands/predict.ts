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
import { ArgumentError, StsError } from '../../errors.js';
import { isPairPath, pairSourceOfOptions } from '../../catalog/catalog.js';
import { type PredictionOptions, createPredictor } from '../../pipeline/predictor.js';
import { ensureWritableFolder } from '../../io/atomic-write.js';
import { checkPixelCap } from '../../io/pixel-cap.js';
import { formatSeconds, progressBar } from '../progress.js';
import type { RoughPassPlan } from '../../types/progress.js';

export interface PredictCommandOptions extends PredictionOptions {
  /** Number format of inference (else STS_INFERENCE_PRECISION, else float32). */
  readonly precision?: InferencePrecision;
  /** A catalog pair by name, or the two model folders. */
  readonly model?: string;
  readonly rough?: string;
  readonly fine?: string;
  readonly out: string;
  /** Images with more pixels than this (from their header) are refused by name, before any work on them. */
  readonly maxPixels?: number;
  /** `i/n`: only the i-th (0-based) of n deterministic parts of the inputs (SLURM arrays, Kubernetes Indexed Jobs). */
  readonly shard?: Shard;
}

export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `i/n` (0 <= i < n), as --shard takes it. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count)) {
    throw new ArgumentError('--shard', `must be i/n with 0 <= i < n (e.g. 0/4 for the first of four parts, as $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX count), got '${text}'`);
  }
  return { index, count };
}

/**
 * The inputs of part `shard.index` of `shard.count`: each file goes to the part its path's FNV-1a hash picks, so
 * every task of an array job, given the same command line, agrees on the parts without talking to the others, and
 * adding files to a folder moves no file already assigned.
 */
export function shardOf(files: readonly string[], shard: Shard): string[] {
  return files.filter((f) => fnv1a(f) % shard.count === shard.index);
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.tif', '.tiff'];

/**
 * The image files named on the command line, folders expanded to the images they hold (sorted, not recursive:
 * `note` is told of subfolders left out, so a nested cohort is not half-processed without a word).
 */
export async function listInputs(paths: readonly string[], note: (line: string) => void = () => {}): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => {
      throw new StsError(`${p}: no such file or folder; give image files or folders of images`);
    });
    if (s.isDirectory()) {
      const entries = await readdir(p, { withFileTypes: true });
      const names = entries.filter((e) => !e.isDirectory() && IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase()) && !e.name.startsWith('.')).map((e) => e.name).sort();
      const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
      if (folders.length > 0) note(`${p}: ${folders.length} subfolder${folders.length === 1 ? '' : 's'} not searched (${folders.slice(0, 3).join(', ')}${folders.length > 3 ? ', ...' : ''}); name them to segment their images too`);
      if (names.length === 0) throw new StsError(`${p}: no PNG, JPEG or TIFF files in this folder${folders.length ? ' (subfolders are not searched: name them)' : ''}`);
      files.push(...names.map((n) => join(p, n)));
    } else files.push(p);
  }
  return files;
}

/**
 * What a large image is about to cost, said before its first pixel is read (a 1.2 MB TIFF that claims 100,000 x
 * 100,000 pixels otherwise spends minutes in its rough pass without a word); nothing for ordinary images.
 */
export function planLine(file: string, plan: RoughPassPlan): string | undefined {
  const megapixels = (plan.width * plan.height) / 1e6;
  if (megapixels < 100 && plan.tiles < 1000) return undefined;
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const rough = plan.mode === 'tiled' ? `downscaled to ${n(plan.roughWidth)} x ${n(plan.roughHeight)} for the rough pass, ${n(plan.tiles)} tiles` : 'one rough pass at S x S';
  return `${file}: ${n(plan.width)} x ${n(plan.height)} pixels (${n(megapixels)} megapixels), ${rough}, then a fine crop per object found: this takes a while (Ctrl-C stops it)`;
}

export async function runPredict(inputs: string[], o: PredictCommandOptions, signal?: AbortSignal): Promise<void> {
  if (o.roughOnlyUpTo !== undefined && !o.withinRough) {
    throw new ArgumentError('--rough-only-up-to', 'needs --within-rough (the rough mask is what the boxes kept rough draw)');
  }
  const bar = progressBar();
  const listed = await listInputs(inputs, (line) => bar.log(line));
  const files = o.shard ? shardOf(listed, o.shard) : listed;
  if (o.shard) bar.log(`shard ${o.shard.index}/${o.shard.count}: ${files.length} of ${listed.length} images`);
  // A bad --out fails now, not after the first image went through the networks.
  await ensureWritableFolder(o.out);
  const engine = await initEngine({ warn: (line) => bar.log(line), inferencePrecision: o.precision });
  // libvips follows the engine's thread budget and keeps no cache: windows are read once each.
  sharp.concurrency(engine.threads);
  sharp.cache(false);
  const predictor = await createPredictor(pairSourceOfOptions(o), o);
  const { pair, scale } = predictor;
  if (pair.entry) bar.log(`model: ${isPairPath(pair.entry.name) ? `the pair folder ${pair.entry.name}` : `the catalog's ${pair.entry.name} pair`} (${pair.entry.card})`);
  bar.log(
    `engine: ${engine.backend}, ${engine.threads} threads, ${engine.malloc} malloc, ${engine.inferencePrecision} inference; S = ${pair.size}; ` +
      (scale ? `rough scale ${scale.factorX.toFixed(2)} x ${scale.factorY.toFixed(2)} original pixels per input pixel` : 'no training scale: every image gets one S x S rough pass'),
  );
  const taken = new Set<string>();
  let failed = 0;
  for (const file of files) {
    signal?.throwIfAborted();
    try {
      if (o.maxPixels !== undefined) await checkPixelCap(file, o.maxPixels);
      let stage = '';
      const result = await predictor.predictFile(file, o.out, {
        taken,
        signal,
        note: (line) => bar.log(line),
        onProgress: ({ stage: s, done, total, plan }) => {
          if (plan) {
            const line = planLine(file, plan);
            if (line) bar.log(line);
          }
          if (s !== stage) {
            stage = s;
            bar.start(total, `${basename(file)} ${s}`);
          }
          bar.update(done);
        },
      });
      bar.stop();
      if (result.skipped) {
        bar.log(`${file}: done before (${result.dir}), skipped`);
        continue;
      }
      if (result.reason) bar.log(`${file}: redone: ${result.reason}`);
      const summary = result.summary;
      bar.log(
        `${file}: ${summary.objects} objects, ${summary.width} x ${summary.height}, rough ${summary.rough.mode}` +
          `${summary.rough.mode === 'tiled' ? ` (${summary.rough.tiles} tiles)` : ''}, ${summary.boxes - summary.roughOnly} crops${summary.roughOnly > 0 ? ` (${summary.roughOnly} boxes kept rough)` : ''}, ${formatSeconds(summary.seconds)} -> ${result.dir}`,
      );
    } catch (error) {
      bar.stop();
      if (signal?.aborted) throw error;
      failed++;
      const message = error instanceof StsError ? error.message : `${file}: ${(error as Error).message}`;
      bar.log(`error: ${message.startsWith(file) ? message : `${file}: ${message}`}`);
    }
  }
  // A Ctrl-C that came during the last image, after its networks, still ends as an interruption.
  signal?.throwIfAborted();
  if (failed > 0) throw new StsError(`${failed} of ${files.length} images failed (named above); the others are in ${o.out}`);
}
