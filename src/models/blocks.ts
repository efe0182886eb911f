/** Layer building blocks shared by the architectures (tfjs-layers, NHWC). */
import * as tfl from '@tensorflow/tfjs-layers';
import { AtrousConv2D } from './atrous-conv.js';
import { FusedBatchNormalization } from './batch-norm.js';

export type SymbolicTensor = tfl.SymbolicTensor;

/**
 * Whose layer defaults the initial weights follow. `pytorch` (the default): what the reference trained with, PyTorch's
 * own layer initialisation: convolution, transposed convolution and dense weights and biases uniform in
 * +-1/sqrt(fan_in), fan_in as PyTorch computes it (input channels x kernel area; for a transposed convolution its
 * output channels x kernel area). `tfjs`: earlier versions of this project, He-uniform convolutions, Glorot-uniform
 * head and dense layers, zero biases (about 2.45x larger weights).
 */
export type InitScheme = 'pytorch' | 'tfjs';
export const INIT_SCHEMES: readonly InitScheme[] = ['pytorch', 'tfjs'];

let nextSeed: number | undefined;
let scheme: InitScheme = 'pytorch';

/**
 * Builds a model with every random initializer seeded from `seed` (one derived seed per layer, in build order), so
 * that a run's initial weights are reproducible (tfjs-layers would otherwise draw from Math.random), and with the
 * initial weights of `init`.
 */
export function withSeed<T>(seed: number | undefined, build: () => T, init: InitScheme = 'pytorch'): T {
  const saved = [nextSeed, scheme] as const;
  nextSeed = seed;
  scheme = init;
  try {
    return build();
  } finally {
    [nextSeed, scheme] = saved;
  }
}

type Initializer = ReturnType<typeof tfl.initializers.heUniform>;

function seedOnce(): number | undefined {
  return nextSeed === undefined ? undefined : nextSeed++;
}

/** PyTorch's kaiming_uniform(a = sqrt(5)) and its bias rule: both come to U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
function pytorchUniform(fanIn: number): Initializer {
  const bound = 1 / Math.sqrt(fanIn);
  return tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seedOnce() });
}

/** The kernel and bias initialisers of a layer with this fan_in (PyTorch's definition), under the current scheme. */
export function layerInit(fanIn: number, tfjsKernel: 'he' | 'glorot' = 'he'): { kernelInitializer: Initializer; biasInitializer?: Initializer } {
  if (scheme === 'pytorch') return { kernelInitializer: pytorchUniform(fanIn), biasInitializer: pytorchUniform(fanIn) };
  const seed = seedOnce();
  return { kernelInitializer: tfjsKernel === 'he' ? tfl.initializers.heUniform({ seed }) : tfl.initializers.glorotUniform({ seed }) };
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
  /** The output layer: under the `tfjs` scheme it was Glorot-, not He-initialised. */
  readonly head?: boolean;
}

/** A 'same'-padded convolution, initialised as the current scheme says (see `layerInit`). */
export function conv(x: SymbolicTensor, filters: number, name: string, o: ConvOptions = {}): SymbolicTensor {
  const kernel = o.kernel ?? 3;
  const config = {
    filters,
    kernelSize: kernel,
    strides: o.strides ?? 1,
    dilationRate: o.dilation ?? 1,
    padding: 'same' as const,
    useBias: o.bias ?? true,
    activation: o.activation,
    ...layerInit(channelsOf(x) * kernel * kernel, o.head ? 'glorot' : 'he'),
    name,
  };
  // tfjs has no gradient for dilated convolutions: those layers bring their own (atrous-conv.ts).
  return ((o.dilation ?? 1) > 1 ? new AtrousConv2D(config) : tfl.layers.conv2d(config)).apply(x) as SymbolicTensor;
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
