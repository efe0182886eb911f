/** Small synthetic segmentation sets: bright discs on a noisy dark background, with their masks. */
import { seededRng } from '../../src/random.js';
import type { Batch, TrainingData } from '../../src/train/batch.js';

export interface Sample {
  readonly input: Float32Array;
  readonly target: Float32Array;
}

export function discSamples(count: number, size: number, channels: number, seed: number): Sample[] {
  const rng = seededRng(seed);
  return Array.from({ length: count }, () => {
    const input = new Float32Array(size * size * channels);
    const target = new Float32Array(size * size);
    const discs = rng.int(1, 3);
    const shapes = Array.from({ length: discs }, () => [rng.int(4, size - 5), rng.int(4, size - 5), rng.int(3, Math.max(3, size >> 3))]);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = shapes.some(([cx, cy, r]) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r);
        target[y * size + x] = inside ? 1 : 0;
        const base = inside ? 170 : 40;
        for (let k = 0; k < channels; k++) input[(y * size + x) * channels + k] = base + rng.int(-30, 30);
      }
    }
    return { input, target };
  });
}

function* batches(samples: readonly Sample[], order: number[], batchSize: number, size: number, channels: number): Generator<Batch> {
  for (let start = 0; start + batchSize <= order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const inputs = new Float32Array(idx.length * size * size * channels);
    const targets = new Float32Array(idx.length * size * size);
    idx.forEach((s, i) => {
      inputs.set(samples[s].input, i * size * size * channels);
      targets.set(samples[s].target, i * size * size);
    });
    yield { inputs, masks: targets, count: idx.length, size, channels, ids: idx.map(String), boxes: idx.map(() => null) };
  }
}

/** Training data over fixed samples: shuffled per epoch from (seed, epoch); validation on the training set itself. */
export function inMemoryData(samples: readonly Sample[], size: number, channels: number, onEpoch?: (epoch: number) => void): TrainingData {
  return {
    size,
    channels,
    batchesPerEpoch: (b) => Math.floor(samples.length / b),
    trainBatches(epoch, batchSize, seed) {
      onEpoch?.(epoch);
      const rng = seededRng(seed * 1000 + epoch);
      const order = samples.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [order[i], order[j]] = [order[j], order[i]];
      }
      return batches(samples, order, batchSize, size, channels);
    },
    validationBatches: (batchSize) => batches(samples, samples.map((_, i) => i), Math.min(batchSize, samples.length), size, channels),
  };
}
