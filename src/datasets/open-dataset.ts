/** Opening a dataset folder, or one of the paper's presets, with its layout detected from the files. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArgumentError, StsError } from '../errors.js';
import { packageRoot } from '../paths.js';
import type { CoreTarget } from '../instances/core-target.js';
import type { Dataset, LayoutName, Sample, SplitPolicy } from './dataset.js';
import { LAYOUTS } from './dataset.js';
import { type AvtOptions, VolumeCache, findLabelVolumes, listAvt, loadSliceSample } from './layouts/avt.js';
import { isDir, listDir } from './layouts/files.js';
import { listImagesMasks, loadImageSample } from './layouts/images-masks.js';
import { listStage1, loadInstancesSample } from './layouts/stage1.js';
import { buildSemiSyntheticAorta, defaultSemiSyntheticAortaDir, isCompleteSemiSyntheticSet } from './semi-synthetic-aorta.js';

export type PresetName = 'cells' | 'polyp' | 'aorta';

/** Where the presets' folders are found: $STS_DATA_DIR, else the project's `../shared/data`. */
export function defaultDataDir(): string {
  return process.env.STS_DATA_DIR ?? resolve(packageRoot, '..', 'shared', 'data');
}

const PRESETS: Record<PresetName, { folder: string; layout: LayoutName }> = {
  cells: { folder: 'dsb2018', layout: 'dsb2018' },
  polyp: { folder: 'kvasir-seg', layout: 'kvasir-seg' },
  // The labels only: the preset's dataset is the semi-synthetic CT built around them (see semi-synthetic-aorta.ts).
  aorta: { folder: 'avt-dongyang-labels', layout: 'avt' },
};

export interface OpenDatasetOptions extends AvtOptions {
  /** Skip detection. */
  readonly layout?: LayoutName;
  /** Image channels for 2-D layouts: 3 (RGB, default) or 1 (gray). CT is always 1. */
  readonly channels?: 1 | 3;
  /** Progress of building the `aorta` preset's semi-synthetic set the first time (default: stderr). */
  readonly log?: (line: string) => void;
  /**
   * Load each sample's object cores too (src/instances/), from its instance labels: an `instances/` folder of
   * label maps beside `masks/`, or the Kaggle layout's one mask file per object. For `sts train --targets instances`.
   */
  readonly cores?: boolean;
  /** With `cores`: the share of each object's largest depth its core exceeds (src/instances/core-target.ts). */
  readonly coreDepth?: number;
  /** With `cores`: what the core channel learns, the 0/1 core (default) or each pixel's depth (core-target.ts). */
  readonly coreTarget?: CoreTarget;
  /** Load each sample's instance labels too, where the dataset has them (no error where it has none). */
  readonly labels?: boolean;
}

/**
 * Opens `pathOrPreset`: a dataset folder of any supported layout, or `cells` / `polyp` for the paper's DSB2018
 * and Kvasir-SEG folders under `defaultDataDir()`, or `aorta` for the semi-synthetic CT set built (the first time)
 * around the AVT labels there. Lists samples (files are not decoded, except AVT labels to
 * find non-empty slices); call `validateDataset` before training.
 */
export async function openDataset(pathOrPreset: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  let root = pathOrPreset;
  let layout = options.layout;
  if (pathOrPreset in PRESETS && !existsSync(pathOrPreset)) {
    const preset = PRESETS[pathOrPreset as PresetName];
    root = join(defaultDataDir(), preset.folder);
    if (!existsSync(root)) {
      throw new ArgumentError(
        'data',
        `preset '${pathOrPreset}' expects its dataset at ${root}, which does not exist; give the dataset folder instead, or set STS_DATA_DIR to the folder holding ${preset.folder}/`,
      );
    }
    layout ??= preset.layout;
    if (pathOrPreset === 'aorta') {
      const built = defaultSemiSyntheticAortaDir();
      if (!(await isCompleteSemiSyntheticSet(built))) {
        const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
        log(`building the semi-synthetic aorta CT set from the AVT labels in ${root} into ${built} (once; a few minutes)`);
        await buildSemiSyntheticAorta(root, built, { log });
      }
      root = built;
      // All volumes stay decoded (~3 GB for the 18 patients): shuffled epochs visit patients at random.
      options = { cacheVolumes: 64, ...options };
    }
  }
  if (layout !== undefined && !LAYOUTS.includes(layout)) {
    throw new ArgumentError('layout', `unknown layout '${String(layout)}'; use one of ${LAYOUTS.join(', ')}`);
  }
  if (!(await isDir(root))) {
    throw new ArgumentError('data', `${root} is not a folder; give a dataset folder or one of the presets ${Object.keys(PRESETS).join(', ')}`);
  }
  layout ??= await detectLayout(root);
  return build(resolve(root), layout, options);
}

/** Which layout a folder holds, from its file names alone. */
export async function detectLayout(root: string): Promise<LayoutName> {
  if ((await isDir(join(root, 'images'))) && (await isDir(join(root, 'masks')))) {
    if (existsSync(join(root, 'kavsir_bboxes.json'))) return 'kvasir-seg';
    const masks = await listDir(join(root, 'masks'), 'files');
    if (masks.length > 0 && masks.every((m) => /\.jpe?g$/i.test(m))) return 'kvasir-seg';
    if (await isDir(join(root, 'instances'))) return 'dsb2018';
    return 'images-masks';
  }
  if ((await findLabelVolumes(root)).length > 0) return 'avt';
  const dirs = await listDir(root, 'dirs');
  const probe = dirs.slice(0, 3);
  if (probe.length > 0) {
    const looksStage1 = await Promise.all(probe.map(async (d) => (await isDir(join(root, d, 'images'))) && (await isDir(join(root, d, 'masks')))));
    if (looksStage1.every(Boolean)) return 'dsb2018-stage1';
  }
  throw new StsError(
    `${root}: cannot tell this dataset's layout; expected images/ and masks/ with matching names, <id>/images + <id>/masks ` +
      `(DSB2018 stage1_train), or <name>.seg.nrrd label volumes beside <name>.nrrd; or name the layout (${LAYOUTS.join(', ')})`,
  );
}

const BY_SAMPLE: SplitPolicy = { ratios: [0.8, 0.1, 0.1], by: 'sample' };
const BY_PATIENT: SplitPolicy = { ratios: [0.7, 0.2, 0.1], by: 'group' };

async function build(root: string, layout: LayoutName, options: OpenDatasetOptions): Promise<Dataset> {
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new ArgumentError('channels', `must be 1 or 3, got ${String(channels)}`);
  const common = { root, layout, splitPolicy: BY_SAMPLE };
  switch (layout) {
    case 'dsb2018':
    case 'kvasir-seg':
    case 'images-masks': {
      const { samples, problems } = await listImagesMasks(root);
      // One mask rule for every layout and command (readMask's `auto`): JPEG masks at 128, lossless ones non-zero.
      const rule = 'auto';
      const kind = layout === 'dsb2018' ? 'cells' : layout === 'kvasir-seg' ? 'polyp' : 'generic';
      return {
        ...common,
        kind,
        channels,
        samples,
        problems,
        load: (s) => (s.kind === 'image' ? loadImageSample(s, channels, rule, { cores: options.cores, coreDepth: options.coreDepth, coreTarget: options.coreTarget, labels: options.labels }) : wrongKind(s, layout)),
      };
    }
    case 'dsb2018-stage1': {
      const { samples, problems } = await listStage1(root);
      return {
        ...common,
        kind: 'cells',
        channels,
        samples,
        problems,
        load: (s) => (s.kind === 'instances' ? loadInstancesSample(s, channels, { cores: options.cores, coreDepth: options.coreDepth, coreTarget: options.coreTarget, labels: options.labels }) : wrongKind(s, layout)),
      };
    }
    case 'avt': {
      const { samples, problems } = await listAvt(root, options);
      const cache = new VolumeCache(options.cacheVolumes ?? 4);
      return {
        ...common,
        kind: 'aorta',
        splitPolicy: BY_PATIENT,
        channels: 1,
        samples,
        problems,
        load: (s) => (s.kind === 'slice' ? loadSliceSample(s, cache, options) : wrongKind(s, layout)),
      };
    }
  }
}

function wrongKind(sample: Sample, layout: LayoutName): never {
  throw new ArgumentError('sample', `'${sample.id}' is a ${sample.kind} sample, not one of this ${layout} dataset's`);
}
