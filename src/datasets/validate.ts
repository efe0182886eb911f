/**
 * The checks that must pass before training starts, so that a bad file stops a run in its first second rather than
 * in its third hour: every image has its mask, every file's header reads, image and mask sizes agree, and the
 * dataset is not empty (`validateDataset`: headers only), and every file decodes (`decodeDataset`: each image and
 * mask once, fully). Every problem is collected, then reported together.
 */
import { DatasetError, StsError } from '../errors.js';
import type { Dataset, Sample } from './dataset.js';
import { readImageInfo } from '../io/image-files.js';
import { readVolumeInfo } from '../io/read-volume.js';

export interface ValidateOptions {
  /** Header reads in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Problems quoted in the error message (all are on `DatasetError.problems`). Default 5. */
  readonly shown?: number;
}

/** Throws a `DatasetError` naming the files at fault; resolves when the dataset is fit to train on. */
export async function validateDataset(dataset: Dataset, { concurrency = 8, shown = 5 }: ValidateOptions = {}): Promise<void> {
  const problems = [...dataset.problems];
  const checked = new Map<string, Promise<string | { width: number; height: number; depth?: number }>>();
  const info = (path: string, volume: boolean) => {
    let p = checked.get(path);
    if (!p) {
      p = (volume ? readVolumeInfo(path) : readImageInfo(path)).catch((e: unknown) =>
        e instanceof StsError ? e.message : `${path}: ${(e as Error).message}`,
      );
      checked.set(path, p);
    }
    return p;
  };
  const samples = dataset.samples;
  // Kept per sample and joined in the samples' order, so the report reads the same from run to run.
  const perSample: string[][] = new Array(samples.length);
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const i = next++;
      perSample[i] = await checkSample(samples[i], info);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  problems.push(...perSample.flat());
  const unique = [...new Set(problems)];
  if (unique.length > 0) throw new DatasetError(dataset.root, unique, shown);
  if (samples.length === 0) {
    throw new DatasetError(dataset.root, [
      `no samples found (layout ${dataset.layout}); check that this is the dataset folder and that its images have masks`,
    ]);
  }
}

type Info = { width: number; height: number; depth?: number };

async function checkSample(sample: Sample, info: (path: string, volume: boolean) => Promise<string | Info>): Promise<string[]> {
  const volume = sample.kind === 'slice';
  const maskPaths = sample.kind === 'instances' ? sample.maskPaths : [sample.maskPath];
  const image = await info(sample.imagePath, volume);
  const masks = await Promise.all(maskPaths.map((p) => info(p, volume)));
  const out: string[] = [];
  if (typeof image === 'string') out.push(image);
  masks.forEach((m, i) => {
    if (typeof m === 'string') out.push(m);
    else if (typeof image !== 'string' && !sameSize(image, m)) {
      out.push(`${maskPaths[i]}: mask is ${describe(m)} but its image ${sample.imagePath} is ${describe(image)}; they must be the same size`);
    }
  });
  return out;
}

function sameSize(a: Info, b: Info): boolean {
  return a.width === b.width && a.height === b.height && (a.depth ?? 1) === (b.depth ?? 1);
}

function describe(i: Info): string {
  return i.depth !== undefined && i.depth > 1 ? `${i.width} x ${i.height} x ${i.depth}` : `${i.width} x ${i.height}`;
}

export interface DecodeCheck {
  /** Samples decoded (volume slices are checked by their readers and left out). */
  readonly decoded: number;
  /** Of those, the samples whose mask has no foreground pixel. */
  readonly emptyMasks: number;
}

/**
 * Decodes every 2-D sample's image and mask once, fully, at the strict decoding level, so that a truncated or
 * corrupt file stops the run before training rather than in its third hour; every bad file is named together.
 * Give it the training's load cache (`withLoadCache`) and the first epoch reuses what was decoded here.
 */
export async function decodeDataset(
  dataset: Pick<Dataset, 'root' | 'samples' | 'load'>,
  { concurrency = 4, shown = 5, onProgress }: ValidateOptions & { onProgress?: (done: number, total: number) => void } = {},
): Promise<DecodeCheck> {
  const samples = dataset.samples.filter((s) => s.kind !== 'slice');
  const problems: string[] = new Array(samples.length).fill('');
  let emptyMasks = 0;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < samples.length) {
      const i = next++;
      try {
        const { mask } = await dataset.load(samples[i]);
        if (!mask.data.some((v) => v !== 0)) emptyMasks++;
      } catch (e) {
        problems[i] = e instanceof StsError ? e.message : `${samples[i].imagePath}: ${(e as Error).message}`;
      }
      onProgress?.(++done, samples.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  const found = problems.filter(Boolean);
  if (found.length > 0) throw new DatasetError(dataset.root, found, shown);
  return { decoded: samples.length, emptyMasks };
}
