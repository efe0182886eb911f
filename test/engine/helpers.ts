/** Shared helpers for the engine tests: run the same function on two backends and compare. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { loadNative, nativeLoadError, registerTorchBackend } from '../../src/engine/torch/index.js';

export { tf };
export const torchSkip: string | false = loadNative() && registerTorchBackend()
  ? false
  : `libtorch addon not built (${nativeLoadError()}); run npm run build:native`;

/** oneDNN's bfloat16 convolutions need AVX-512 (avx512bw, avx512vl, avx512dq); `sts` names that error on other CPUs. */
export const bfloat16Skip: string | false =
  torchSkip || (['avx512bw', 'avx512vl', 'avx512dq'].every((f) => cpuFlags().has(f)) ? false : "this CPU has no AVX-512, which oneDNN's bfloat16 convolutions need");

function cpuFlags(): Set<string> {
  try {
    return new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** Deterministic pseudo-random values. */
export function values(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** Runs f on backend `name` with inputs made there from plain arrays; returns the outputs as arrays. */
export async function runOn(name: string, shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<{ shape: number[]; data: Float32Array }[]> {
  await tf.setBackend(name);
  return tf.tidy(() => {
    const xs = shapes.map((s, i) => tf.tensor(values(s.reduce((a, b) => a * b, 1), i + 7), s));
    const out = f(...xs);
    return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
  });
}

export function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
