// What the instance-pair experiment scripts share (instance-options.mjs, rough-scales.mjs): a pair loaded as
// sts predict runs it, one image of a dataset segmented by the streaming pipeline, and its true label map.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelPair } from '../../dist/src/catalog/catalog.js';
import { initEngine } from '../../dist/src/engine/backend.js';
import { openImageSource } from '../../dist/src/io/file-image-source.js';
import { readLabelMap } from '../../dist/src/io/label-maps.js';
import { streamingSegmentThenSegment } from '../../dist/src/pipeline/streaming-sts.js';
import { pairPassOfModels } from '../../dist/src/types/training-scale.js';

/** A pair folder's networks with the pass it records (rough scale, tiling, largest crop). */
export async function openPair(model) {
  await initEngine();
  const pair = await loadModelPair({ rough: join(model, 'rough'), fine: join(model, 'fine') });
  const pass = pairPassOfModels(pair.rough.metadata, pair.fine.metadata, { tiling: true });
  return { pair, pass, rough: pair.rough.network({ batchSize: 32 }), fine: pair.fine.network({ batchSize: 32 }) };
}

/**
 * A dataset's images (any extension: DSB2018's .png, MoNuSeg's .jpg) with their 16-bit instance label maps; segment
 * one by id, with the pair's pass or the scale / largest crop given.
 */
export function datasetOf(data, { pair, pass, rough, fine }) {
  const files = readdirSync(join(data, 'images'));
  const imageFile = (id) => files.find((f) => f.startsWith(`${id}.`)) ?? `${id}.png`;
  return {
    truth: (id) => readLabelMap(join(data, 'instances', `${id}.png`)),
    async segment(id, { scale = pass.scale, maxCropSide = pass.maxCropSide } = {}) {
      const source = await openImageSource(join(data, 'images', imageFile(id)), { channels: pair.channels });
      try {
        return await streamingSegmentThenSegment(source, { size: pair.size, rough, fine, scale, tileAbove: pass.tileAbove, dropPolicy: 'clip', batchSize: 32, maxCropSide });
      } finally {
        await source.close();
      }
    },
  };
}

/** A label map's objects as one binary mask (for the DSC of their union). */
export const unionMask = (map) => ({ width: map.width, height: map.height, channels: 1, data: Uint8Array.from(map.data, (v) => (v ? 1 : 0)) });
