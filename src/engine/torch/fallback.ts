/**
 * The generic fallback: a tfjs kernel with no native version runs the cpu backend's kernel on copies of its
 * inputs, and its outputs are copied back into native tensors. Slow for big tensors, but every op works.
 */
import { getKernelsForBackend, type KernelConfig, type KernelFunc, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { KernelBackend } from '@tensorflow/tfjs-core';

let cpu: MathBackendCPU | null = null;
function cpuBackend(): MathBackendCPU {
  return (cpu ??= new MathBackendCPU());
}

/** The cpu backend's kernels, by name. */
export function cpuKernels(): Map<string, KernelConfig> {
  return new Map(getKernelsForBackend('cpu').map((k) => [k.kernelName, k]));
}

const complexKernel = () => getKernelsForBackend('cpu').find((k) => k.kernelName === 'Complex')!;

function toCpu(t: TensorInfo, torch: KernelBackend, made: TensorInfo[]): TensorInfo {
  const c = cpuBackend();
  const values = torch.readSync(t.dataId);
  if (t.dtype === 'complex64') {
    const v = values as Float32Array;
    const n = v.length / 2;
    const re = new Float32Array(n);
    const im = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      re[i] = v[2 * i];
      im[i] = v[2 * i + 1];
    }
    const real = c.makeTensorInfo(t.shape, 'float32', re);
    const imag = c.makeTensorInfo(t.shape, 'float32', im);
    const out = complexKernel().kernelFunc({ inputs: { real, imag }, backend: c }) as TensorInfo;
    c.disposeIntermediateTensorInfo(real);
    c.disposeIntermediateTensorInfo(imag);
    made.push(out);
    return out;
  }
  const info = c.makeTensorInfo(t.shape, t.dtype, values);
  made.push(info);
  // Some cpu kernels read `rank`, which tfjs Tensors have and plain TensorInfos lack.
  return Object.assign(info, { rank: t.shape.length });
}

/** Runs a cpu kernel for another backend (torch, wasm), copying inputs to the cpu backend and outputs back. */
export function fallbackKernel(config: KernelConfig): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const torch = backend as KernelBackend;
    const c = cpuBackend();
    const made: TensorInfo[] = [];
    const cpuInputs: NamedTensorInfoMap = Array.isArray(inputs) ? ([] as unknown as NamedTensorInfoMap) : {};
    for (const [k, v] of Object.entries(inputs)) {
      const x = v as TensorInfo | TensorInfo[] | undefined;
      (cpuInputs as Record<string, unknown>)[k] = x == null ? x
        : Array.isArray(x) ? x.map((t) => toCpu(t, torch, made)) : toCpu(x, torch, made);
    }
    try {
      const out = config.kernelFunc({ inputs: cpuInputs, backend: c, attrs });
      const outs = Array.isArray(out) ? out : [out];
      const result = outs.map((o) => {
        made.push(o);
        return { dataId: torch.write(c.readSync(o.dataId), o.shape, o.dtype), shape: o.shape, dtype: o.dtype };
      });
      return Array.isArray(out) ? result : result[0];
    } finally {
      for (const m of made) if (c.refCount(m.dataId) > 0) c.disposeData(m.dataId, true);
    }
  };
}
