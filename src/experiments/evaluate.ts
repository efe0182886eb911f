/**
 * The paper's evaluation: on each test image, the baseline (the rough network's S x S mask upsampled to the
 * original size) and Segment-then-Segment, scored at the original resolution with the reference's metrics, and
 * timed (the networks alone, and the whole method). Timing starts from the decoded image: disk reads are left out
 * (the paper's timings include them), so the ratio shows the method, not the file system.
 */
import type { Dataset, LoadedSample, Sample } from '../datasets/dataset.js';
import type { DropPolicy } from '../geometry/boxes.js';
import type { Mask, Raster } from '../geometry/raster.js';
import { type ResizeMode, resize } from '../geometry/resize.js';
import { type ImageMetrics, imageMetrics } from '../metrics/metrics.js';
import { type Fallback, type SegmentThenSegmentResult, segmentThenSegment, upsampleRough } from '../pipeline/segment-then-segment.js';
import { objectLabelMap, quantise, renderRegion, roughResults } from '../pipeline/fine-results.js';
import { roughMaskOf, streamingSegmentThenSegment } from '../pipeline/streaming-sts.js';
import { rasterImageSource } from '../io/raster-image-source.js';
import { ArgumentError, StsError } from '../errors.js';
import { type LabelMap, componentLabelMap } from '../geometry/label-map.js';
import { type InstanceMetrics, instanceMetrics } from '../metrics/instances.js';
import type { SegmentationNetwork } from '../types/network.js';

export type Method = 'baseline' | 'sts';

export interface EvaluationRow extends ImageMetrics {
  readonly size: number;
  readonly method: Method;
  readonly image: string;
  /** The whole method, from decoded image to full-resolution mask. */
  readonly ms: number;
  /** Time inside the networks. */
  readonly modelMs: number;
  /** StS: the number of crops. */
  readonly crops: number;
  /**
   * Where the dataset has per-object truth (an `instances/` folder, or one mask file per object): the objects
   * scored as the 2018 Data Science Bowl did. The baseline's objects are its mask's components; Segment-then-
   * Segment's are its instances (an instance pair) or its mask's components.
   */
  readonly instances?: InstanceMetrics;
}

export interface EvaluateOptions {
  readonly dataset: Pick<Dataset, 'load'>;
  readonly samples: readonly Sample[];
  readonly size: number;
  readonly rough: SegmentationNetwork;
  /** Without a fine network only the baseline is evaluated. */
  readonly fine?: SegmentationNetwork;
  readonly dropPolicy?: DropPolicy;
  readonly fallback?: Fallback;
  readonly resizeMode?: ResizeMode;
  /** Rounds of crop growth (pipeline/segment-then-segment.ts); default 0. */
  readonly growCrops?: number;
  /**
   * A rough network trained on windows at a fixed scale (`sts train --rough-scale`, the H&E pair) is evaluated as
   * `sts predict` runs it: the tiled rough pass at that scale, then a crop per object; its baseline is that tiled
   * rough mask upsampled. Without it, the paper's single S x S rough pass.
   */
  readonly scale?: { readonly factorX: number; readonly factorY: number };
  /**
   * Boxes longer than this are segmented as S x S windows at full resolution (`sts predict --max-crop`, recorded by
   * `sts train --max-crop`); the streaming pipeline then runs, with the paper's single S x S rough pass unless `scale`.
   */
  readonly maxCropSide?: number;
  readonly signal?: AbortSignal;
  readonly onImage?: (done: number, total: number, rows: EvaluationRow[]) => void;
  /** Keeps the masks of these images (for figures). */
  readonly keep?: ReadonlySet<string>;
}

export interface KeptMasks {
  readonly loaded: LoadedSample;
  readonly baseline: Mask<Uint8Array>;
  readonly sts?: Mask<Uint8Array>;
  readonly boxes?: readonly import('../geometry/raster.js').Box[];
}

/** A network that adds the time spent in it to `clock.ms`. */
function timed(network: SegmentationNetwork, clock: { ms: number }): SegmentationNetwork {
  // Keeps what the network says of itself (its outputs).
  return Object.assign(async (inputs: Parameters<SegmentationNetwork>[0]) => {
    const t = performance.now();
    try {
      return await network(inputs);
    } finally {
      clock.ms += performance.now() - t;
    }
  }, network);
}

async function baseline(image: Raster, o: EvaluateOptions, clock: { ms: number }): Promise<Mask<Uint8Array>> {
  const small = resize(image, o.size, o.size, o.resizeMode ?? 'nearest');
  const input = { ...small, data: small.data instanceof Float32Array ? small.data : Float32Array.from(small.data) } as Raster<Float32Array>;
  const [map] = await timed(o.rough, clock)([input]);
  const rough = { width: o.size, height: o.size, channels: 1 as const, data: Float32Array.from(map) };
  return upsampleRough(rough, image.width, image.height, o.resizeMode ?? 'nearest');
}

/** An instance pair's objects from Algorithm 1's crops: the cores split the fused foreground, or the flows (instances/). */
function instancesOfCrops(result: SegmentThenSegmentResult, width: number, height: number, mode: ResizeMode, size: number): LabelMap {
  const pixels = size * size;
  const { maps, cores, flows } = result.fine;
  const results = result.boxes.map((box, i) => ({
    box,
    map: quantise(maps[i], 0, 1, pixels),
    ...(cores ? { core: quantise(cores[i], 0, 1, pixels) } : {}),
    ...(flows ? { flowY: quantise(flows[i], 0, 2, pixels), flowX: quantise(flows[i], 1, 2, pixels) } : {}),
  }));
  return objectLabelMap({ size, mode, results }, width, height);
}

/** One image scored: its baseline and (with a fine network) Segment-then-Segment rows, and its masks for figures. */
type ScoreImage = (loaded: LoadedSample, id: string) => Promise<{ rows: EvaluationRow[]; keep: KeptMasks }>;

export async function evaluate(o: EvaluateOptions): Promise<{ rows: EvaluationRow[]; kept: Map<string, KeptMasks> }> {
  // A fine network that learned windows of large boxes is scored as sts predict runs it, by the streaming pipeline.
  const score = o.scale || o.maxCropSide !== undefined ? streamingScorer(o) : inMemoryScorer(o);
  const rows: EvaluationRow[] = [];
  const kept = new Map<string, KeptMasks>();
  // One untimed pass first: the first calls pay for compilation and allocator warm-up, not for the method. Its object
  // scores are not wanted, so it goes without the instance labels.
  if (o.samples.length > 0) await score({ ...(await o.dataset.load(o.samples[0])), labels: undefined }, o.samples[0].id);
  for (const [i, sample] of o.samples.entries()) {
    o.signal?.throwIfAborted();
    const { rows: imageRows, keep } = await score(await o.dataset.load(sample), sample.id);
    if (o.keep?.has(sample.id)) kept.set(sample.id, keep);
    rows.push(...imageRows);
    o.onImage?.(i + 1, o.samples.length, imageRows);
  }
  return { rows, kept };
}

/** Scored after the clock stops: finding the objects is not part of the method's time. */
const objectsOf = (loaded: LoadedSample) => (labels: () => LabelMap) => (loaded.labels ? { instances: instanceMetrics(labels(), loaded.labels) } : {});

/** The paper's evaluation: one S x S rough pass (the baseline upsampled), then Algorithm 1 on the decoded image. */
function inMemoryScorer(o: EvaluateOptions): ScoreImage {
  return async (loaded, id) => {
    const objects = objectsOf(loaded);
    const clock = { ms: 0 };
    let t = performance.now();
    const base = await baseline(loaded.image, o, clock);
    const baseMs = performance.now() - t;
    const rows: EvaluationRow[] = [
      { size: o.size, method: 'baseline', image: id, ...imageMetrics(base, loaded.mask), ms: baseMs, modelMs: clock.ms, crops: 0, ...objects(() => componentLabelMap(base)) },
    ];
    if (!o.fine) return { rows, keep: { loaded, baseline: base } };
    const stsClock = { ms: 0 };
    t = performance.now();
    const result = await segmentThenSegment(loaded.image, {
      size: o.size,
      rough: timed(o.rough, stsClock),
      fine: timed(o.fine, stsClock),
      dropPolicy: o.dropPolicy,
      fallback: o.fallback,
      resizeMode: o.resizeMode,
      growCrops: o.growCrops,
    });
    const ms = performance.now() - t;
    const stsObjects = () => (result.fine.cores || result.fine.flows ? instancesOfCrops(result, loaded.image.width, loaded.image.height, o.resizeMode ?? 'nearest', o.size) : componentLabelMap(result.mask));
    rows.push({ size: o.size, method: 'sts', image: id, ...imageMetrics(result.mask, loaded.mask), ms, modelMs: stsClock.ms, crops: result.boxes.length, ...objects(stsObjects) });
    return { rows, keep: { loaded, baseline: base, sts: result.mask, boxes: result.boxes } };
  };
}

/** `sts predict`'s streaming pipeline on each decoded image, for a fixed-scale rough network or windowed large boxes. */
function streamingScorer(o: EvaluateOptions): ScoreImage {
  if (!o.fine) throw new ArgumentError('--fine', 'a rough network trained at a fixed scale is evaluated as a pair: give its fine network too');
  const fine = o.fine;
  return async (loaded, id) => {
    const image = loaded.image;
    if (!(image.data instanceof Uint8Array)) throw new StsError('this pair is evaluated as sts predict runs it (a rough network trained at a fixed scale, or a fine network that records --max-crop), which takes 8-bit images only here; convert the images to 8-bit, or run sts predict on them and score the masks with sts metrics');
    const objects = objectsOf(loaded);
    const [roughClock, fineClock] = [{ ms: 0 }, { ms: 0 }];
    const t = performance.now();
    const result = await streamingSegmentThenSegment(rasterImageSource(image as Raster<Uint8Array>), {
      size: o.size, rough: timed(o.rough, roughClock), fine: timed(fine, fineClock), scale: o.scale, tileAbove: o.scale ? 0 : undefined,
      dropPolicy: o.dropPolicy, resizeMode: o.resizeMode, growCrops: o.growCrops, maxCropSide: o.maxCropSide,
    });
    const ms = performance.now() - t;
    const whole = { left: 0, top: 0, width: result.width, height: result.height };
    const sts = renderRegion(result, whole);
    const base = renderRegion(roughResults(roughMaskOf(result), result.width, result.height), whole);
    // The baseline's time is its share of the run, the tiled rough pass's network time (its fusion is not split out).
    const rows: EvaluationRow[] = [
      { size: o.size, method: 'baseline', image: id, ...imageMetrics(base, loaded.mask), ms: roughClock.ms, modelMs: roughClock.ms, crops: 0, ...objects(() => componentLabelMap(base)) },
      {
        size: o.size, method: 'sts', image: id, ...imageMetrics(sts, loaded.mask), ms, modelMs: roughClock.ms + fineClock.ms, crops: result.boxes.length,
        ...objects(() => (result.instances ? objectLabelMap(result, result.width, result.height) : componentLabelMap(sts))),
      },
    ];
    return { rows, keep: { loaded, baseline: base, sts, boxes: result.boxes } };
  };
}
