/**
 * Engine selection: the TensorFlow.js backend the project computes on.
 *
 * Tried in order by the shared resolver (start-backend.ts): `torch` (the libtorch addon) when it loads, else `wasm`
 * with a one-line warning, else `cpu`; one error lists why each failed. STS_BACKEND (torch | wasm | cpu) or the
 * `backend` option picks one and fails loudly if it cannot start. Threads: STS_THREADS or the `threads` option,
 * default all cores. Inference convolutions: float32, or bfloat16 on `torch` (STS_INFERENCE_PRECISION or the
 * `inferencePrecision` option; see torch/inference-precision.ts).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ArgumentError, StsError } from '../errors.js';
import { mallocInUse } from './allocator.js';
import { describeSkipped, startFirstBackend } from './start-backend.js';
import { ADDON_REMEDY, INFERENCE_PRECISIONS, loadNative, nativeLoadError, registerTorchBackend, setInferencePrecision, setTorchThreads, type InferencePrecision } from './torch/index.js';
import { registerWasmConv2DBackpropFilter } from './wasm/conv2d-backprop-filter.js';

export type EngineName = 'torch' | 'wasm' | 'cpu';
export const ENGINE_ORDER: readonly EngineName[] = ['torch', 'wasm', 'cpu'];

export interface EngineOptions {
  /** One backend only (else STS_BACKEND, else the first of torch, wasm, cpu that starts). */
  backend?: EngineName;
  /** Compute threads (else STS_THREADS, else all cores). */
  threads?: number;
  /** Number format of inference convolutions (else STS_INFERENCE_PRECISION, else float32); bfloat16 needs `torch`. */
  inferencePrecision?: InferencePrecision;
  /** Where the fallback warning goes (default: console.warn); pass null for silence. */
  warn?: ((line: string) => void) | null;
}

export interface EngineInfo {
  backend: EngineName;
  threads: number;
  /** Why each engine tried before the chosen one failed. */
  skipped: { backend: EngineName; reason: string }[];
  /** The process's memory allocator (see allocator.ts). */
  malloc: 'jemalloc' | 'system';
  /** What inference convolutions compute in (always float32 off `torch`). */
  inferencePrecision: InferencePrecision;
}

/** Compute threads as STS_THREADS asks (all cores when unset), for runtimes besides TensorFlow.js (ONNX Runtime). */
export function threadsOfEnvironment(): number {
  return parseThreads(process.env.STS_THREADS);
}

function parseThreads(v: string | number | undefined): number {
  if (v === undefined || v === '') return availableParallelism();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new ArgumentError('STS_THREADS', `must be a whole number >= 1 (got '${v}'); leave it unset for all cores`);
  }
  return n;
}

function parseBackend(v: string | undefined): EngineName | undefined {
  if (v === undefined || v === '') return undefined;
  if ((ENGINE_ORDER as readonly string[]).includes(v)) return v as EngineName;
  throw new ArgumentError('STS_BACKEND', `must be one of ${ENGINE_ORDER.join(', ')} (got '${v}')`);
}

function parsePrecision(v: string | undefined): InferencePrecision {
  if (v === undefined || v === '') return 'float32';
  if ((INFERENCE_PRECISIONS as readonly string[]).includes(v)) return v as InferencePrecision;
  throw new ArgumentError('STS_INFERENCE_PRECISION', `must be one of ${INFERENCE_PRECISIONS.join(', ')} (got '${v}')`);
}

/** Whether the CPU computes bfloat16 natively (x86 AVX512-BF16); elsewhere oneDNN emulates it, slower than float32. */
function cpuHasBfloat16(): boolean {
  try {
    return /\bavx512_bf16\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/** Switches inference convolutions to `precision` on the running engine, after one probe convolution. */
function applyPrecision(backend: EngineName, precision: InferencePrecision, warn: ((line: string) => void) | null): InferencePrecision {
  if (precision === 'float32' || backend !== 'torch') {
    if (precision !== 'float32' && warn) warn(`[sts] ${precision} inference needs the torch engine; the ${backend} engine computes in float32`);
    setInferencePrecision('float32');
    return 'float32';
  }
  setInferencePrecision(precision);
  // The same filter twice: the second call takes the inference path, so an unsupported CPU fails here, not mid-run.
  const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
  const f = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
  try {
    tf.tidy(() => [tf.conv2d(x, f, 1, 'same'), tf.conv2d(x, f, 1, 'same')].forEach((y) => y.dataSync()));
  } catch (e) {
    setInferencePrecision('float32');
    throw new StsError(`${precision} inference does not run on this machine (${(e as Error).message}); use float32 (--precision float32 or STS_INFERENCE_PRECISION=float32)`);
  } finally {
    x.dispose();
    f.dispose();
  }
  if (!cpuHasBfloat16() && warn) warn(`[sts] this CPU has no native bfloat16 (avx512_bf16): ${precision} inference is emulated and likely slower than float32`);
  return precision;
}

let wasmThreadsSet = false;
/** The fallback warning is said once per process, however often the engine is started. */
let fallbackWarned = false;

async function start(name: EngineName, threads: number): Promise<string | null> {
  try {
    if (name === 'torch') {
      if (!registerTorchBackend()) return nativeLoadError() ?? 'the libtorch addon did not load';
      setTorchThreads(threads);
    } else if (name === 'wasm') {
      if (!wasmThreadsSet) {
        setThreadsCount(threads);
        wasmThreadsSet = true;
      }
      registerWasmConv2DBackpropFilter();
    }
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend('${name}') failed`;
    await tf.ready();
    if (name === 'wasm') registerWasmConv2DBackpropFilter();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Chooses and starts the backend; call once before computing. */
export async function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const threads = parseThreads(options.threads ?? process.env.STS_THREADS);
  const precision = options.inferencePrecision ?? parsePrecision(process.env.STS_INFERENCE_PRECISION);
  const only = options.backend ?? parseBackend(process.env.STS_BACKEND);
  const warn = options.warn === undefined ? (l: string) => console.warn(l) : options.warn;
  // Production mode: no "install tfjs-node" banner (we have our own engines) and no debug-only checks.
  tf.env().set('PROD', true);
  const candidates = (only ? [only] : ENGINE_ORDER).map((name) => ({ name, start: () => start(name, threads) }));
  const remedy = only
    ? `STS_BACKEND=${only} asked for that one only; unset it to try the others`
    : ADDON_REMEDY;
  const { backend, skipped } = await startFirstBackend(candidates, remedy);
  if (!only && backend !== 'torch' && warn && !fallbackWarned) {
    fallbackWarned = true;
    // One line, said once per process: why torch did not start, and (in its reason or added here) how to get it.
    const why = describeSkipped(skipped);
    warn(`[sts] using the ${backend} engine, roughly 40x slower than torch for training (${why})${why.includes(ADDON_REMEDY) ? '' : `; ${ADDON_REMEDY}`}`);
  }
  const inferencePrecision = applyPrecision(backend, precision, warn);
  return { backend, threads, skipped: [...skipped], malloc: mallocInUse(), inferencePrecision };
}

/**
 * Hands the torch engine's cached tensor storage back to the system. The cache makes the next step's allocations
 * free, but once a stage's networks are done (say, before writing a slide's outputs) it only holds memory.
 */
export function releaseCachedMemory(): void {
  if (tf.getBackend() === 'torch') loadNative()?.emptyCache();
}

export { tf };
