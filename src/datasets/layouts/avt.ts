/**
 * AVT-style CT: per patient a label volume `<name>.seg.nrrd` beside its image volume `<name>.nrrd` (or
 * `.nii.gz` / `.nii`), at the dataset root or one folder down (AVT ships `D1/D1.nrrd`, `D1/D1.seg.nrrd`). Samples
 * are axial slices; as in the reference, slices whose mask is empty are left out unless asked for.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StsError } from '../../errors.js';
import { AORTA_WINDOW, type CtWindow, windowCt } from '../ct-window.js';
import type { LoadedSample, SliceSample } from '../dataset.js';
import { readNrrd, segmentationSliceMask } from '../../io/nrrd.js';
import { readVolume } from '../../io/read-volume.js';
import { type Volume, axialSlice } from '../../io/volume.js';
import { isDir, listDir } from './files.js';

export interface AvtOptions {
  /** Segment names or IDs that make the mask (default: every segment). */
  readonly segments?: readonly string[];
  /** Keep slices with an empty mask (the reference drops them). Default false. */
  readonly keepEmptySlices?: boolean;
  readonly window?: CtWindow;
  /** Decoded volumes kept in memory (an AVT CT volume is ~170 MB, its labels ~85 MB). Default 4. */
  readonly cacheVolumes?: number;
}

const IMAGE_SUFFIXES = ['.nrrd', '.nii.gz', '.nii'];

export async function findLabelVolumes(root: string): Promise<string[]> {
  const out: string[] = [];
  const scan = async (dir: string) => {
    for (const f of await listDir(dir, 'files')) if (f.toLowerCase().endsWith('.seg.nrrd')) out.push(join(dir, f));
  };
  await scan(root);
  for (const d of await listDir(root, 'dirs')) if (await isDir(join(root, d))) await scan(join(root, d));
  return out;
}

export async function listAvt(root: string, options: AvtOptions = {}): Promise<{ samples: SliceSample[]; problems: string[] }> {
  const samples: SliceSample[] = [];
  const problems: string[] = [];
  for (const maskPath of await findLabelVolumes(root)) {
    const base = maskPath.slice(0, -'.seg.nrrd'.length);
    const patient = base.slice(base.lastIndexOf('/') + 1);
    const imagePath = IMAGE_SUFFIXES.map((s) => base + s).find((p) => existsSync(p));
    if (imagePath === undefined) {
      problems.push(`${maskPath}: has no image volume; expected ${base}.nrrd (or .nii.gz / .nii) beside it`);
      continue;
    }
    // The labels are decoded once here to find the slices with foreground; the voxels are not kept.
    const labels = await readNrrd(maskPath);
    for (let z = 0; z < labels.depth; z++) {
      if (!options.keepEmptySlices && !segmentationSliceMask(labels, z, options.segments).data.includes(1)) continue;
      samples.push({ kind: 'slice', id: `${patient}-${z}`, group: patient, imagePath, maskPath, slice: z });
    }
  }
  return { samples, problems };
}

/** A small LRU of decoded volumes: slices of one patient usually come in runs within a shuffled epoch only by luck. */
export class VolumeCache {
  private readonly entries = new Map<string, Promise<Volume>>();
  constructor(private readonly capacity = 4) {}

  get(path: string): Promise<Volume> {
    let v = this.entries.get(path);
    if (v) this.entries.delete(path);
    else v = readVolume(path);
    this.entries.set(path, v);
    v.catch(() => this.entries.delete(path));
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return v;
  }
}

export async function loadSliceSample(sample: SliceSample, cache: VolumeCache, options: AvtOptions = {}): Promise<LoadedSample> {
  const [image, labels] = await Promise.all([cache.get(sample.imagePath), cache.get(sample.maskPath)]);
  if (image.width !== labels.width || image.height !== labels.height || image.depth !== labels.depth) {
    throw new StsError(
      `${sample.maskPath}: labels are ${labels.width} x ${labels.height} x ${labels.depth} but the image ${sample.imagePath} is ${image.width} x ${image.height} x ${image.depth}; they must be the same size`,
    );
  }
  return {
    image: windowCt(axialSlice(image, sample.slice), options.window ?? AORTA_WINDOW),
    mask: segmentationSliceMask(labels, sample.slice, options.segments),
  };
}
