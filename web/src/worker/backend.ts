/**
 * The fastest TensorFlow.js backend this browser can start, tried in order by the library's resolver: WebGPU, then
 * WebGL, then wasm (which every current browser has). Each backend is imported only when tried, so a browser
 * without WebGPU never downloads it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { startFirstBackend } from 'segment-then-segment/core';
import type { BackendChoice, EngineInfo } from './protocol.js';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

type Name = Exclude<BackendChoice, 'auto'>;
export const BACKEND_ORDER: readonly Name[] = ['webgpu', 'webgl', 'wasm'];

let threadsWanted: number | undefined;
/** One thread per core, where threads can be had (threadsUnavailable), unless the page asked for fewer. */
export const wantedThreads = () => Math.max(1, Math.min(threadsWanted ?? Infinity, navigator.hardwareConcurrency || 1));

/**
 * Why wasm must run on one thread here, or undefined when it can have one per core: threads share memory through
 * SharedArrayBuffer, which a browser gives only to a cross-origin isolated page (COOP + COEP headers).
 */
export function threadsUnavailable(): string | undefined {
  if (!self.crossOriginIsolated) {
    return 'the page is not cross-origin isolated (its host sends no Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp headers), so wasm has no SharedArrayBuffer for threads; see docs/web-hosting.md';
  }
  if (typeof SharedArrayBuffer === 'undefined') return 'this browser has no SharedArrayBuffer';
  return undefined;
}

let wasmThreads: (() => number) | undefined;

const load: Record<Name, () => Promise<unknown>> = {
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
  wasm: async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // The .wasm files are served with the app (hashed by Vite), never fetched from a CDN.
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': new URL(wasmPlain, self.location.href).href,
      'tfjs-backend-wasm-simd.wasm': new URL(wasmSimd, self.location.href).href,
      'tfjs-backend-wasm-threaded-simd.wasm': new URL(wasmThreaded, self.location.href).href,
    });
    // Used only when the threaded binary loads (SIMD, SharedArrayBuffer); tfjs's default is also one per core.
    wasm.setThreadsCount(wantedThreads());
    wasmThreads = wasm.getThreadsCount;
  },
};

export async function startBackend(choice: BackendChoice, maxThreads?: number): Promise<EngineInfo> {
  threadsWanted = maxThreads;
  // A GPU backend asked for by name falls back to wasm, which every current browser has; the page says so.
  const order: readonly Name[] = choice === 'auto' ? BACKEND_ORDER : choice === 'wasm' ? ['wasm'] : [choice, 'wasm'];
  const candidates = order.map((name) => ({
    name,
    start: async () => {
      const unfit = await unfitReason(name, choice === 'auto');
      if (unfit) return unfit;
      await load[name]();
      const started = await (name === 'wasm' ? showingEveryCore : (f: () => Promise<boolean>) => f())(async () => {
        const ok = await tf.setBackend(name);
        if (ok) await tf.ready();
        return ok;
      });
      return started ? null : 'did not start in this browser';
    },
  }));
  const { backend, skipped } = await startFirstBackend(candidates, 'use a current Chrome, Edge, Firefox or Safari');
  const engine: EngineInfo = { backend, skipped: skipped.map((s) => `${s.backend}: ${s.reason}`), isolated: self.crossOriginIsolated };
  if (backend !== 'wasm') return engine;
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = wasmThreads?.() ?? 1;
  const why = threads > 1 ? undefined : (threadsUnavailable() ?? (threadsWanted === 1 ? 'the page asked for one (?threads=1)' : simd ? 'this browser\'s wasm has no threads' : 'threads need wasm SIMD, which this browser lacks'));
  return { ...engine, simd, threads, ...(why ? { singleThread: why } : {}) };
}

/**
 * tfjs-backend-wasm 4.22 caps its thread pool at navigator.hardwareConcurrency / 2 (it counts two hyperthreads per
 * core), whatever setThreadsCount asks: a 2-core machine got one thread. While its module starts (it reads the count
 * then), it is shown twice the count, so the pool gets the threads asked for, one per logical core.
 */
async function showingEveryCore<T>(start: () => Promise<T>): Promise<T> {
  const cores = navigator.hardwareConcurrency || 1;
  Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => 2 * cores });
  try {
    return await start();
  } finally {
    // The navigator's own getter again.
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}

/**
 * Why not to start `name` here, if anything. Without a usable GPU, browsers emulate WebGL (SwiftShader, llvmpipe)
 * and may offer a fallback WebGPU adapter: measured in headless Chromium, such WebGL is 25 times slower than wasm,
 * so `auto` passes over them. A WebGPU API without an adapter is skipped before tfjs fails on it obscurely. The
 * page's ONNX Runtime (onnx-runtime.ts) makes the same choice.
 */
export async function unfitReason(name: Name, avoidSoftware: boolean): Promise<string | undefined> {
  const software = (what: string) => (avoidSoftware ? `runs on ${what}, a software renderer slower than wasm` : undefined);
  if (name === 'webgl') {
    const gl = typeof OffscreenCanvas === 'undefined' ? null : new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return undefined;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i.test(renderer) ? software(renderer) : undefined;
  }
  if (name === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean } | null> } }).gpu;
    if (!gpu) return 'this browser has no WebGPU';
    const adapter = await gpu.requestAdapter();
    if (!adapter) return 'the browser offers no WebGPU adapter (no usable GPU)';
    if (adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter) return software('a fallback WebGPU adapter');
  }
  return undefined;
}
