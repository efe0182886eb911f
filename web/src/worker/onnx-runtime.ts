/**
 * ONNX models in the page, run by onnxruntime-web: on WebGPU when the browser has a real GPU adapter (the same test
 * the TensorFlow.js backends pass, backend.ts), else on wasm. The runtime is imported only when an ONNX model is
 * picked, so pages that use TensorFlow.js models never download its 14-27 MB of wasm; its .wasm files are served
 * with the app (hashed by Vite), never fetched from a CDN.
 */
import type * as Ort from 'onnxruntime-web';
import { openOnnxModel } from 'segment-then-segment/core';
import wasmCpu from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import wasmGpu from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { threadsUnavailable, unfitReason, wantedThreads } from './backend.js';
import type { PageModel } from './models.js';
import type { BackendChoice } from './protocol.js';

interface Runtime {
  readonly ort: typeof Ort;
  /** Execution providers in the order tried: WebGPU (then wasm) or wasm alone. */
  readonly providers: string[];
  /** For the page's model line. */
  readonly label: string;
}

let runtime: Promise<Runtime> | undefined;

/** The one runtime of this worker, started on the first ONNX model with the page's backend choice. */
function onnxRuntime(choice: BackendChoice): Promise<Runtime> {
  runtime ??= start(choice).catch((error: unknown) => {
    runtime = undefined;
    throw error;
  });
  return runtime;
}

async function start(choice: BackendChoice): Promise<Runtime> {
  // WebGL has no current ONNX Runtime provider: a page set to WebGL runs ONNX models on wasm.
  const gpu = (choice === 'auto' || choice === 'webgpu') && !(await unfitReason('webgpu', choice === 'auto'));
  const ort: typeof Ort = gpu ? await import('onnxruntime-web/webgpu') : await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = { wasm: new URL(gpu ? wasmGpu : wasmCpu, self.location.href).href };
  // Threads need SharedArrayBuffer, which a page has only when cross-origin isolated: one per core then.
  const threads = threadsUnavailable() ? 1 : wantedThreads();
  ort.env.wasm.numThreads = threads;
  const wasmLabel = `ONNX Runtime wasm (${threads} thread${threads === 1 ? '' : 's'})`;
  return { ort, providers: gpu ? ['webgpu', 'wasm'] : ['wasm'], label: gpu ? `ONNX Runtime WebGPU, else ${wasmLabel}` : wasmLabel };
}

/**
 * Sessions are created one at a time: ONNX Runtime's WebGPU provider refuses a second while one is being created
 * ("another WebGPU EP inference session is being created"), and the page loads both models of a pair at once.
 */
let creating: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(create: () => Promise<T>): Promise<T> {
  const next = creating.then(create, create);
  creating = next.catch(() => undefined);
  return next;
}

export async function openPageOnnxModel(
  bytes: Uint8Array,
  sidecarText: string | undefined,
  o: { path: string; sidecarName: string; backend: BackendChoice },
): Promise<PageModel> {
  const { ort, providers, label } = await onnxRuntime(o.backend);
  const model = await openOnnxModel(bytes, sidecarText, {
    path: o.path,
    sidecarName: o.sidecarName,
    Tensor: ort.Tensor,
    runtimeVersion: ort.env.versions.web,
    createSession: (b) => oneAtATime(() => ort.InferenceSession.create(b, { executionProviders: providers, graphOptimizationLevel: 'all' })),
  });
  const { size, channels, metadata } = model.convention;
  return { name: o.path, format: 'onnx', size, channels, metadata, runtime: label, network: () => model.network(), dispose: () => model.dispose() };
}
