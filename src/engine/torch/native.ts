/**
 * Loads the libtorch addon (native/build/Release/sts_torch.node) and types its surface. The addon holds
 * at::Tensor handles and calls ATen operators by schema name; see native/src/addon.cc.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque handle on a native at::Tensor. */
export type NativeTensor = { readonly __nativeTensor: unique symbol };
/** An opaque handle on an ATen operator (a c10 OperatorHandle). */
export type NativeOp = { readonly __nativeOp: unique symbol };

export type NativeArg = NativeTensor | number | boolean | string | null | undefined | NativeArg[] | bigint;
export type NativeResult = NativeTensor | number | boolean | null | NativeResult[];

export interface DtypeCodes {
  float32: number;
  int32: number;
  bool: number;
  complex64: number;
  int64: number;
  uint8: number;
  float64: number;
  /** Only for bfloat16 inference (see inference-precision.ts): tfjs has no bfloat16 dtype. */
  bfloat16: number;
}

export interface TorchAddon {
  fromArray(values: Float32Array | Int32Array | Uint8Array, shape: number[], dtype: number): NativeTensor;
  toArray(t: NativeTensor): Float32Array | Int32Array | Uint8Array;
  free(t: NativeTensor): void;
  finish(t: NativeTensor, dtype: number): number[];
  view(t: NativeTensor, shape: number[]): NativeTensor;
  shape(t: NativeTensor): number[];
  dtype(t: NativeTensor): number;
  describe(t: NativeTensor): string;
  op(name: string, overload: string): NativeOp;
  schema(op: NativeOp): string;
  call(op: NativeOp, ...args: NativeArg[]): NativeResult;
  /** tfjs's Step in one pass (float32); absent from addons built before it existed. */
  step?(t: NativeTensor, alpha: number): NativeTensor;
  /** tfjs's Adam update of one variable in one pass: [value', m', v']; absent from older addon builds. */
  adamStep?(value: NativeTensor, m: NativeTensor, v: NativeTensor, g: NativeTensor, oneMinusAccBeta1: NativeTensor, oneMinusAccBeta2: NativeTensor,
    learningRate: number, beta1: number, beta2: number, epsilon: number): NativeTensor[];
  setNumThreads(n: number): void;
  getNumThreads(): number;
  liveTensors(): number;
  /** Bytes of freed tensor storage the addon's caching allocator keeps for reuse. */
  cachedBytes(): number;
  /** Bytes of tensor storage in use (handed out, not yet released); absent from older addon builds. */
  liveBytes?(): number;
  /** Returns the allocator's cached storage to the system (e.g. between training and inference). */
  emptyCache(): void;
  /** glibc's malloc statistics in bytes (empty elsewhere): what the memory benchmark reads to tell leaks from fragmentation. */
  mallocInfo(): { inUse?: number; free?: number; heap?: number; mmapped?: number };
  info(): { torchVersion: string; mkldnn: boolean; parallel: string };
  dtypes: DtypeCodes;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** The addon's candidate paths: STS_TORCH_ADDON, then native/build/Release from the source or the dist tree. */
export function addonCandidates(): string[] {
  const out: string[] = [];
  if (process.env.STS_TORCH_ADDON) out.push(path.resolve(process.env.STS_TORCH_ADDON));
  for (const up of ['../../..', '../../../..']) out.push(path.resolve(here, up, 'native/build/Release/sts_torch.node'));
  return out;
}

/**
 * How to get the addon, for every message that misses it: the package builds it at install when libtorch is there,
 * so after installing libtorch it is the package's install script again (npm rebuild), or build:native in a clone.
 */
export const ADDON_REMEDY = 'for the fast engine install libtorch (`sudo apt-get install libtorch-dev`, or set STS_LIBTORCH to a libtorch folder) ' +
  'and build the addon: `npm rebuild segment-then-segment` where the package is installed, `npm run build:native` in a clone';

let cached: { addon: TorchAddon | null; error: string | null } | null = null;

/** Loads the addon once; returns null (and the reason through {@link nativeLoadError}) when it cannot. */
export function loadNative(): TorchAddon | null {
  if (cached) return cached.addon;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const p of addonCandidates()) {
    if (!existsSync(p)) {
      tried.push(`${p}: not built`);
      continue;
    }
    try {
      cached = { addon: require(p) as TorchAddon, error: null };
      return cached.addon;
    } catch (e) {
      tried.push(`${p}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // Simply not built (the usual case without libtorch) is said without the paths looked at; anything else with them.
  const notBuilt = !process.env.STS_TORCH_ADDON && tried.every((t) => t.endsWith(': not built'));
  cached = {
    addon: null,
    error: notBuilt ? `the libtorch addon is not built; ${ADDON_REMEDY}` : `the libtorch addon did not load (${tried.join('; ')}); ${ADDON_REMEDY}`,
  };
  return null;
}

export function nativeLoadError(): string | null {
  loadNative();
  return cached?.error ?? null;
}

/** The addon, or an Error that says why it is missing and how to build it. */
export function requireNative(): TorchAddon {
  const a = loadNative();
  if (!a) throw new Error(nativeLoadError() ?? 'the libtorch addon is not available');
  return a;
}
