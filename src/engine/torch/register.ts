/**
 * Registers the `torch` backend's kernels: first every cpu kernel through the copying fallback, then the native
 * ones over them (see kernels/index.ts, the table).
 */
import { registerKernel, unregisterKernel, getKernel, type KernelConfig, type KernelFunc, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { runKernelScope } from './aten.js';
import { cpuKernels, fallbackKernel } from './fallback.js';
import type { TorchKernel, TorchKernelArgs } from './kernel-util.js';
import { UseFallback } from './use-fallback.js';
import { nativeKernels } from './kernels/index.js';

export const BACKEND_NAME = 'torch';

const fallbacks = new Map<string, KernelFunc>();
const nativeNames = new Set<string>();

function hasStrings(inputs: NamedTensorInfoMap): boolean {
  for (const v of Object.values(inputs)) {
    const x = v as TensorInfo | TensorInfo[] | undefined;
    if (Array.isArray(x) ? x.some((t) => t?.dtype === 'string') : x?.dtype === 'string') return true;
  }
  return false;
}

function nativeConfig(k: TorchKernel): KernelConfig {
  const name = k.kernelName;
  return {
    kernelName: name,
    backendName: BACKEND_NAME,
    kernelFunc: (args) => {
      const fb = fallbacks.get(name);
      if (fb && hasStrings(args.inputs)) return fb(args);
      try {
        return runKernelScope(() => k.kernelFunc(args as unknown as TorchKernelArgs));
      } catch (e) {
        if (e instanceof UseFallback && fb) return fb(args);
        const err = e as Error;
        if (err.message?.startsWith(`${name}: `)) throw err;
        throw new Error(`${name}: ${err.message ?? String(e)}`);
      }
    },
  };
}

let registered = false;

/** Registers all kernels for `torch` (idempotent). */
export function registerTorchKernels(): void {
  if (registered) return;
  registered = true;
  for (const [name, config] of cpuKernels()) {
    const fb = fallbackKernel(config);
    fallbacks.set(name, fb);
    if (getKernel(name, BACKEND_NAME)) unregisterKernel(name, BACKEND_NAME);
    registerKernel({ kernelName: name, backendName: BACKEND_NAME, kernelFunc: fb });
  }
  for (const k of nativeKernels) {
    if (getKernel(k.kernelName, BACKEND_NAME)) unregisterKernel(k.kernelName, BACKEND_NAME);
    registerKernel(nativeConfig(k));
    nativeNames.add(k.kernelName);
  }
}

/** Kernel names that run natively on `torch` (the rest go through the cpu fallback). */
export function nativeKernelNames(): string[] {
  return [...nativeNames].sort();
}
