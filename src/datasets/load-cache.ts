/**
 * Keeps decoded samples in memory across epochs: decoding PNG/JPEG costs as much as a training step at small S,
 * and a dataset like DSB2018 fits in a few hundred MB. Least recently used samples leave first once `maxBytes` is
 * reached, so large sets (Kvasir-SEG at full resolution) still run, with a partial cache.
 */
import type { Dataset, LoadedSample, Sample } from './dataset.js';

export function withLoadCache<D extends Pick<Dataset, 'load'>>(dataset: D, maxBytes = 2 * 2 ** 30): D {
  const cache = new Map<string, Promise<LoadedSample>>();
  const sizes = new Map<string, number>();
  let bytes = 0;
  const load = async (sample: Sample): Promise<LoadedSample> => {
    const hit = cache.get(sample.id);
    if (hit) {
      // Map keeps insertion order: re-inserting marks the sample as recently used.
      cache.delete(sample.id);
      cache.set(sample.id, hit);
      return hit;
    }
    const pending = dataset.load(sample);
    cache.set(sample.id, pending);
    let loaded: LoadedSample;
    try {
      loaded = await pending;
    } catch (error) {
      cache.delete(sample.id);
      throw error;
    }
    const size = loaded.image.data.byteLength + loaded.mask.data.byteLength + (loaded.core?.data.byteLength ?? 0) + (loaded.labels?.data.byteLength ?? 0);
    if (cache.get(sample.id) === pending) {
      sizes.set(sample.id, size);
      bytes += size;
      for (const id of cache.keys()) {
        if (bytes <= maxBytes) break;
        if (id === sample.id) continue;
        bytes -= sizes.get(id) ?? 0;
        sizes.delete(id);
        cache.delete(id);
      }
      if (bytes > maxBytes) {
        // a single sample larger than the whole budget is not kept
        cache.delete(sample.id);
        bytes -= size;
        sizes.delete(sample.id);
      }
    }
    return loaded;
  };
  return { ...dataset, load };
}
