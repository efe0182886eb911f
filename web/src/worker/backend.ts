/**
 * The fastest TensorFlow.js backend this browser can start, tried in order by the library's resolver: WebGPU, then
 * WebGL, then wasm (which every current browser has). Each backend is imported only when tried, so a browser
 * without WebGPU never downloads it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { startFirstBackend } from 'segment-then-segment/core';
import type { BackendChoice } from './protocol.js';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

type Name = Exclude<BackendChoice, 'auto'>;
export const BACKEND_ORDER: readonly Name[] = ['webgpu', 'webgl', 'wasm'];

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
  },
};

export async function startBackend(choice: BackendChoice): Promise<{ backend: string; skipped: string[] }> {
  const order = choice === 'auto' ? BACKEND_ORDER : [choice];
  const candidates = order.map((name) => ({
    name,
    start: async () => {
      const unfit = await unfitReason(name, choice === 'auto');
      if (unfit) return unfit;
      await load[name]();
      if (!(await tf.setBackend(name))) return 'did not start in this browser';
      await tf.ready();
      return null;
    },
  }));
  const { backend, skipped } = await startFirstBackend(candidates, 'use a current Chrome, Edge, Firefox or Safari');
  return { backend, skipped: skipped.map((s) => `${s.backend}: ${s.reason}`) };
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
