/**
 * `sts predict`: Segment-then-Segment with trained rough and fine models on image files or folders of them, any
 * size. Each image gets its own result folder; finished folders are skipped on a rerun, and an image that cannot
 * be read is reported by name while the others are still processed.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { initEngine } from '../../engine/backend.js';
import type { InferencePrecision } from '../../engine/torch/index.js';
import { roughPassOfModel } from '../../types/training-scale.js';
import { ArgumentError, StsError } from '../../errors.js';
import type { DropPolicy } from '../../geometry/boxes.js';
import type { ResizeMode } from '../../geometry/resize.js';
import { loadModelPair, pairSourceOfOptions } from '../../catalog/catalog.js';
import { ensureWritableFolder } from '../../io/atomic-write.js';
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

/** A result folder's base name: the file name without its extension (and without .ome). */
export function outputBase(file: string): string {
  return basename(file, extname(file)).replace(/\.ome$/i, '');
}

/** The input file as a result records it: where it is, how large, when it last changed. */
async function inputIdentity(file: string): Promise<{ path: string; bytes: number; modified: string }> {
  const s = await stat(file);
  return { path: resolve(file), bytes: s.size, modified: s.mtime.toISOString() };
}

async function readProvenance(dir: string): Promise<{ input?: { path?: string }; [key: string]: unknown } | undefined> {
  try {
    return (JSON.parse(await readFile(join(dir, SUMMARY_FILE), 'utf8')) as { provenance?: { input?: { path?: string } } }).provenance ?? {};
  } catch {
    return undefined;
  }
}

/**
 * Where the result of `file` goes and whether it is done: the first of <base>, <base>-2, ... that holds this
 * input's result (same path), or else the first that is free (so two inputs with one base name, in one run or in
 * two, get two folders). A result is done when it records the same input (size and modification time), models and
 * options; otherwise it is redone, and `reason` says why.
 */
export async function resultFolder(
  out: string,
  file: string,
  provenance: { input: { path: string } },
  taken: Set<string>,
): Promise<{ dir: string; done: boolean; reason?: string }> {
  const base = outputBase(file);
  for (let k = 1; ; k++) {
    const name = k === 1 ? base : `${base}-${k}`;
    if (taken.has(name)) continue;
    const dir = join(out, name);
    const recorded = await readProvenance(dir);
    if (recorded === undefined) {
      taken.add(name);
      return { dir, done: false };
    }
    // Results of earlier versions record no provenance: they cannot be matched, so the folder is left alone.
    if (recorded.input?.path !== provenance.input.path) continue;
    taken.add(name);
    if (JSON.stringify(recorded) === JSON.stringify(provenance)) return { dir, done: true };
    const { input: a, ...restA } = recorded;
    const { input: b, ...restB } = provenance as Record<string, unknown>;
    const reason = JSON.stringify(a) !== JSON.stringify(b) ? 'the image file changed since' : JSON.stringify(restA) !== JSON.stringify(restB) ? 'the models or options differ from' : 'it differs from';
    return { dir, done: false, reason: `${reason} the result in ${dir}` };
  }
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
  // What makes a result: the models (their folders and files' times) and every option that changes the pixels.
  const modelIdentity = async (dir: string) => ({ path: resolve(dir), modified: (await stat(join(dir, 'weights.bin'))).mtime.toISOString() });
  const settings = {
    models: { rough: await modelIdentity(pair.entry?.rough ?? o.rough!), fine: await modelIdentity(pair.entry?.fine ?? o.fine!) },
    options: { scale: scale ?? null, tileAbove: tileAbove ?? null, overlap: o.overlap ?? null, maxCrop: o.maxCrop ?? null, withinRough: o.withinRough === true, roughOnlyUpTo: o.roughOnlyUpTo ?? null, dropPolicy: o.dropPolicy, resize: o.resize },
  };
  const taken = new Set<string>();
  let failed = 0;
  for (let i = 0; i < files.length; i++) {
    signal?.throwIfAborted();
    const file = files[i];
    let provenance: { input: { path: string } } & typeof settings;
    let target: Awaited<ReturnType<typeof resultFolder>>;
    try {
      provenance = { input: await inputIdentity(file), ...settings };
      target = await resultFolder(o.out, file, provenance, taken);
    } catch (error) {
      failed++;
      bar.log(`error: ${file}: ${(error as Error).message}`);
      continue;
    }
    const { dir } = target;
    if (target.done) {
      bar.log(`${file}: done before (${dir}), skipped`);
      continue;
    }
    if (target.reason) bar.log(`${file}: redoing it: ${target.reason}`);
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
        provenance,
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
  // A Ctrl-C that came during the last image, after its networks, still ends as an interruption.
  signal?.throwIfAborted();
  if (failed > 0) throw new StsError(`${failed} of ${files.length} images failed (named above); the others are in ${o.out}`);
}
