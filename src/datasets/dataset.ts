/**
 * What a dataset is to the rest of the project: a list of samples that name their files (cheap to hold, to split
 * and to save), and a `load` that decodes one sample to an image raster and a 0/1 mask when it is needed.
 */
import type { LabelMap } from '../geometry/label-map.js';
import type { Mask, Raster } from '../geometry/raster.js';

export type LayoutName = 'dsb2018-stage1' | 'dsb2018' | 'kvasir-seg' | 'images-masks' | 'avt';

export const LAYOUTS: readonly LayoutName[] = ['dsb2018-stage1', 'dsb2018', 'kvasir-seg', 'images-masks', 'avt'];

interface SampleBase {
  /** Unique within the dataset; what splits are saved by. */
  readonly id: string;
  /** What splits keep together: the patient for volume slices, the sample itself otherwise. */
  readonly group: string;
  readonly imagePath: string;
}

/** A 2-D image with one mask file. */
export interface ImageSample extends SampleBase {
  readonly kind: 'image';
  readonly maskPath: string;
  /** Its label map (one label per object) in an `instances/` folder beside `masks/`, where there is one. */
  readonly instancesPath?: string;
}

/** A 2-D image with one mask file per object (DSB2018 `stage1_train`), merged by union. */
export interface InstancesSample extends SampleBase {
  readonly kind: 'instances';
  readonly maskPaths: readonly string[];
}

/** Axial slice `slice` of an image volume and its label volume. */
export interface SliceSample extends SampleBase {
  readonly kind: 'slice';
  readonly maskPath: string;
  readonly slice: number;
}

export type Sample = ImageSample | InstancesSample | SliceSample;

export interface LoadedSample {
  /** 8-bit 0..255 for photographs and micrographs (as the reference feeds them), float32 for windowed CT. */
  readonly image: Raster<Uint8Array> | Raster<Float32Array>;
  readonly mask: Mask<Uint8Array>;
  /**
   * Where the dataset has one label per object (an `instances/` folder, or one mask file per object): each object's
   * core (src/instances/core-target.ts), the second target of networks that output instances.
   */
  readonly core?: Mask<Uint8Array>;
  /** The objects, one label each, where the dataset has them and they were asked for (`sts evaluate`'s truth). */
  readonly labels?: LabelMap;
}

/** How a dataset is split by default: the paper's ratios, and whether samples of one group stay together. */
export interface SplitPolicy {
  readonly ratios: readonly [train: number, valid: number, test: number];
  readonly by: 'sample' | 'group';
}

export interface Dataset {
  readonly root: string;
  readonly layout: LayoutName;
  /** `cells`, `polyp` or `aorta`: which of the paper's settings apply. */
  readonly kind: 'cells' | 'polyp' | 'aorta' | 'generic';
  readonly channels: 1 | 3;
  readonly samples: readonly Sample[];
  readonly splitPolicy: SplitPolicy;
  /** Problems found while listing files (an image without its mask, a mask without its image). */
  readonly problems: readonly string[];
  load(sample: Sample): Promise<LoadedSample>;
}
