/** The `torch` backend: registration with tfjs-core. */
import { registerBackend, findBackendFactory } from '@tensorflow/tfjs-core';
import { TorchBackend } from './torch-backend.js';
import { loadNative, nativeLoadError } from './native.js';
import { BACKEND_NAME, nativeKernelNames, registerTorchKernels } from './register.js';

export { TorchBackend, BACKEND_NAME, nativeKernelNames, nativeLoadError };
export { ADDON_REMEDY, loadNative } from './native.js';

/**
 * Registers the `torch` backend (kernels and factory) with tfjs-core. Returns false, and registers nothing, when
 * the addon cannot load (see {@link nativeLoadError}).
 */
export function registerTorchBackend(priority = 3): boolean {
  if (!loadNative()) return false;
  registerTorchKernels();
  // Registered once: removing a registered backend disposes of its instance, and with it every tensor made so far
  // (a second initEngine, say from a command run inside a program, would leave them all unreadable).
  if (!findBackendFactory(BACKEND_NAME)) registerBackend(BACKEND_NAME, () => new TorchBackend(), priority);
  return true;
}

/** Sets libtorch's intra-op thread count (default: all cores, as chosen by src/engine/backend.ts). */
export function setTorchThreads(n: number): void {
  const a = loadNative();
  if (a) a.setNumThreads(n);
}

export { setInferencePrecision, inferencePrecision, INFERENCE_PRECISIONS, type InferencePrecision } from './inference-precision.js';
