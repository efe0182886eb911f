/**
 * DSB2018 `stage1_train` as released: a folder per image id holding `images/<id>.png` and `masks/*.png`, one PNG
 * per nucleus; the sample's mask is their union, as the reference merges them (np.maximum over the files).
 */
import { join } from 'node:path';
import { StsError } from '../../errors.js';
import { readImage, readMask } from '../../io/image-files.js';
import { labelMapFromMaskFiles } from '../../io/label-maps.js';
import { type CoreTarget, coreTargetOfLabels } from '../../instances/core-target.js';
import type { InstancesSample, LoadedSample } from '../dataset.js';
import { isDir, isImageFile, listDir } from './files.js';

export async function listStage1(root: string): Promise<{ samples: InstancesSample[]; problems: string[] }> {
  const samples: InstancesSample[] = [];
  const problems: string[] = [];
  for (const id of await listDir(root, 'dirs')) {
    const dir = join(root, id);
    if (!(await isDir(join(dir, 'images')))) {
      problems.push(`${dir}: has no images/ folder; expected images/${id}.png`);
      continue;
    }
    const images = (await listDir(join(dir, 'images'), 'files')).filter(isImageFile);
    const image = images.find((f) => f.startsWith(`${id}.`)) ?? (images.length === 1 ? images[0] : undefined);
    if (image === undefined) {
      problems.push(`${join(dir, 'images')}: expected one image named ${id}.png, found ${images.length ? images.join(', ') : 'none'}`);
      continue;
    }
    const masks = (await isDir(join(dir, 'masks'))) ? (await listDir(join(dir, 'masks'), 'files')).filter(isImageFile) : [];
    if (masks.length === 0) {
      problems.push(`${join(dir, 'images', image)}: has no mask; expected one PNG per object in ${join(dir, 'masks')}`);
      continue;
    }
    samples.push({
      kind: 'instances',
      id,
      group: id,
      imagePath: join(dir, 'images', image),
      maskPaths: masks.map((m) => join(dir, 'masks', m)),
    });
  }
  return { samples, problems };
}

export async function loadInstancesSample(sample: InstancesSample, channels: 1 | 3, { cores = false, coreDepth, coreTarget, labels: withLabels = false }: { cores?: boolean; coreDepth?: number; coreTarget?: CoreTarget; labels?: boolean } = {}): Promise<LoadedSample> {
  const image = await readImage(sample.imagePath, { channels });
  if (cores || withLabels) {
    // One label per mask file (the later file wins where two overlap, as DSB2018's instances/ were made).
    const labels = await labelMapFromMaskFiles(sample.maskPaths, image);
    if (labels.width !== image.width || labels.height !== image.height) {
      throw new StsError(`${sample.maskPaths[0]}: masks are ${labels.width} x ${labels.height} but their image ${sample.imagePath} is ${image.width} x ${image.height}; they must be the same size`);
    }
    const plane = (data: Uint8Array) => ({ width: image.width, height: image.height, channels: 1 as const, data });
    const mask = plane(Uint8Array.from(labels.data, (v) => (v > 0 ? 1 : 0)));
    return cores ? { image, mask, labels, core: plane(coreTargetOfLabels(labels, { coreTarget, coreDepth })) } : { image, mask, labels };
  }
  const union = new Uint8Array(image.width * image.height);
  // Decoded a few at a time: a DSB image has up to ~375 nucleus files.
  for (let i = 0; i < sample.maskPaths.length; i += 8) {
    const masks = await Promise.all(sample.maskPaths.slice(i, i + 8).map((p) => readMask(p, { rule: 'nonzero' })));
    masks.forEach((m, k) => {
      if (m.width !== image.width || m.height !== image.height) {
        throw new StsError(
          `${sample.maskPaths[i + k]}: mask is ${m.width} x ${m.height} but its image ${sample.imagePath} is ${image.width} x ${image.height}; they must be the same size`,
        );
      }
      const d = m.data;
      for (let j = 0; j < d.length; j++) union[j] |= d[j];
    });
  }
  return { image, mask: { width: image.width, height: image.height, channels: 1, data: union } };
}
