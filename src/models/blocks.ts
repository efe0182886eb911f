/** Layer building blocks shared by the architectures (tfjs-layers, NHWC). */
import * as tfl from '@tensorflow/tfjs-layers';
import { FusedBatchNormalization } from './batch-norm.js';

export type SymbolicTensor = tfl.SymbolicTensor;

let nextSeed: number | undefined;

/**
 * Builds a model with every random initializer seeded from `seed` (one derived seed per layer, in build order), so
 * that a run's initial weights are reproducible; tfjs-layers would otherwise draw from Math.random.
 */
export function withSeed<T>(seed: number | undefined, build: () => T): T {
  const saved = nextSeed;
  nextSeed = seed;
  try {
    return build();
  } finally {
    nextSeed = saved;
  }
}

/** He-uniform weights (PyTorch's default init family for conv + ReLU), seeded inside `withSeed`. */
export function heUniform(): ReturnType<typeof tfl.initializers.heUniform> {
  return tfl.initializers.heUniform({ seed: nextSeed === undefined ? undefined : nextSeed++ });
}

export function glorotUniform(): ReturnType<typeof tfl.initializers.heUniform> {
  return tfl.initializers.glorotUniform({ seed: nextSeed === undefined ? undefined : nextSeed++ });
}

/** PyTorch's BatchNorm2d defaults (momentum 0.1 there is 0.9 here; eps 1e-5), so training behaves like the reference. */
export function batchNorm(x: SymbolicTensor, name: string): SymbolicTensor {
  return new FusedBatchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5, name }).apply(x) as SymbolicTensor;
}

export function relu(x: SymbolicTensor, name?: string): SymbolicTensor {
  return tfl.layers.reLU({ name }).apply(x) as SymbolicTensor;
}

export interface ConvOptions {
  readonly kernel?: number;
  readonly strides?: number;
  readonly dilation?: number;
  readonly bias?: boolean;
  readonly activation?: 'sigmoid' | 'relu';
}

/** A 'same'-padded convolution with He-uniform weights. */
export function conv(x: SymbolicTensor, filters: number, name: string, o: ConvOptions = {}): SymbolicTensor {
  return tfl.layers
    .conv2d({
      filters,
      kernelSize: o.kernel ?? 3,
      strides: o.strides ?? 1,
      dilationRate: o.dilation ?? 1,
      padding: 'same',
      useBias: o.bias ?? true,
      activation: o.activation,
      kernelInitializer: heUniform(),
      name,
    })
    .apply(x) as SymbolicTensor;
}

/** conv -> batch norm -> ReLU. */
export function convBnRelu(x: SymbolicTensor, filters: number, name: string, o: ConvOptions = {}): SymbolicTensor {
  return relu(batchNorm(conv(x, filters, `${name}_conv`, { bias: false, ...o }), `${name}_bn`), `${name}_relu`);
}

export function add(xs: SymbolicTensor[], name: string): SymbolicTensor {
  return tfl.layers.add({ name }).apply(xs) as SymbolicTensor;
}

export function concat(xs: SymbolicTensor[], name: string): SymbolicTensor {
  return tfl.layers.concatenate({ axis: -1, name }).apply(xs) as SymbolicTensor;
}

export function channelsOf(x: SymbolicTensor): number {
  return x.shape[x.shape.length - 1] as number;
}
