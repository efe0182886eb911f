/**
 * Folders `images/` and `masks/` whose files pair by name without extension: the compact DSB2018 layout (union
 * masks as 0/255 PNG), Kvasir-SEG (JPEG masks, thresholded at 128) and any generic set laid out the same way.
 */
import { join } from 'node:path';
import { StsError } from '../../errors.js';
import { type MaskRule, readImage, readMask } from '../../io/image-files.js';
import type { ImageSample, LoadedSample } from '../dataset.js';
import { isDir, isImageFile, listDir, stem } from './files.js';
import { readLabelMap } from '../../io/label-maps.js';
import { type CoreTarget, coreTargetOfLabels } from '../../instances/core-target.js';

export interface ImagesMasksListing {
  readonly samples: ImageSample[];
  readonly problems: string[];
}

export async function listImagesMasks(root: string, imagesDir = 'images', masksDir = 'masks', instancesDir = 'instances'): Promise<ImagesMasksListing> {
  const images = (await listDir(join(root, imagesDir), 'files')).filter(isImageFile);
  // Label maps, one label per object, where the dataset has them (DSB2018, MoNuSeg): for instance targets.
  const instances = (await isDir(join(root, instancesDir))) ? (await listDir(join(root, instancesDir), 'files')).filter(isImageFile) : [];
  const instancesByStem = new Map(instances.map((f) => [stem(f), join(root, instancesDir, f)]));
  const masks = (await listDir(join(root, masksDir), 'files')).filter(isImageFile);
  const problems: string[] = [];
  const maskByStem = new Map<string, string>();
  for (const m of masks) {
    const key = stem(m);
    if (maskByStem.has(key)) problems.push(`${join(root, masksDir, m)}: a second mask for '${key}' (also ${maskByStem.get(key)}); keep one`);
    else maskByStem.set(key, m);
  }
  const samples: ImageSample[] = [];
  const seen = new Set<string>();
  for (const name of images) {
    const id = stem(name);
    const imagePath = join(root, imagesDir, name);
    if (seen.has(id)) {
      problems.push(`${imagePath}: a second image named '${id}'; keep one`);
      continue;
    }
    seen.add(id);
    const mask = maskByStem.get(id);
    if (mask === undefined) {
      problems.push(`${imagePath}: has no mask; expected ${join(root, masksDir, id)}.<png|jpg|tif>`);
      continue;
    }
    const instancesPath = instancesByStem.get(id);
    samples.push({ kind: 'image', id, group: id, imagePath, maskPath: join(root, masksDir, mask), ...(instancesPath ? { instancesPath } : {}) });
  }
  for (const [key, m] of maskByStem) {
    if (!seen.has(key)) problems.push(`${join(root, masksDir, m)}: has no image; expected ${join(root, imagesDir, key)}.<png|jpg|tif>`);
  }
  return { samples, problems };
}

export async function loadImageSample(sample: ImageSample, channels: 1 | 3, rule: MaskRule, { cores = false, coreDepth, coreTarget, labels: withLabels = false }: { cores?: boolean; coreDepth?: number; coreTarget?: CoreTarget; labels?: boolean } = {}): Promise<LoadedSample> {
  const [image, mask] = await Promise.all([readImage(sample.imagePath, { channels }), readMask(sample.maskPath, { rule })]);
  if (image.width !== mask.width || image.height !== mask.height) {
    throw new StsError(
      `${sample.maskPath}: mask is ${mask.width} x ${mask.height} but its image ${sample.imagePath} is ${image.width} x ${image.height}; they must be the same size`,
    );
  }
  if (!cores && !(withLabels && sample.instancesPath)) return { image, mask };
  if (!sample.instancesPath) {
    throw new StsError(`${sample.imagePath}: has no instance label map; instance training needs instances/${sample.id}.png (16-bit, 0 = background, one label per object) beside masks/`);
  }
  const labels = await readLabelMap(sample.instancesPath);
  if (labels.width !== image.width || labels.height !== image.height) {
    throw new StsError(`${sample.instancesPath}: label map is ${labels.width} x ${labels.height} but its image ${sample.imagePath} is ${image.width} x ${image.height}; they must be the same size`);
  }
  if (!cores) return { image, mask, labels };
  return { image, mask, labels, core: { width: image.width, height: image.height, channels: 1, data: coreTargetOfLabels(labels, { coreTarget, coreDepth }) } };
}
