/**
 * Conv2DBackpropFilter for the wasm backend, which ships none (so it cannot train a convolutional network):
 * Conv3DBackpropFilterV2 with a depth of 1 where it applies (NHWC, 'same'/'valid' padding, stride 1: wasm's
 * Conv3DBackpropFilterV2 gives wrong values for strides > 1 in 4.22, checked against the cpu backend), else the
 * cpu kernel through a copy.
 */
import { getKernel, getKernelsForBackend, registerKernel, type Conv2DBackpropFilterAttrs, type KernelBackend, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { fallbackKernel } from '../torch/fallback.js';

export function registerWasmConv2DBackpropFilter(): void {
  if (getKernel('Conv2DBackpropFilter', 'wasm')) return;
  const conv3d = getKernel('Conv3DBackpropFilterV2', 'wasm');
  const reshape = getKernel('Reshape', 'wasm');
  const cpu = getKernelsForBackend('cpu').find((k) => k.kernelName === 'Conv2DBackpropFilter');
  const viaCpu = cpu ? fallbackKernel(cpu) : null;
  const kernelFunc: KernelFunc = (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const a = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const backend = args.backend as KernelBackend & { disposeData(id: object): boolean };
    const strides = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
    const simple = (a.pad === 'same' || a.pad === 'valid') && (a.dataFormat ?? 'NHWC') === 'NHWC' &&
      strides[0] === 1 && strides[1] === 1;
    if (!simple || !conv3d || !reshape) {
      if (!viaCpu) throw new Error('Conv2DBackpropFilter on wasm: no way to compute it here; import @tensorflow/tfjs-backend-cpu');
      return viaCpu(args);
    }
    const r = (t: TensorInfo, shape: number[]) => reshape.kernelFunc({ inputs: { x: t }, backend, attrs: { shape } }) as TensorInfo;
    const x5 = r(x, [x.shape[0], 1, ...x.shape.slice(1)]);
    const dy5 = r(dy, [dy.shape[0], 1, ...dy.shape.slice(1)]);
    const f5 = conv3d.kernelFunc({
      inputs: { x: x5, dy: dy5 }, backend,
      attrs: { strides: [1, strides[0], strides[1]], pad: a.pad, filterShape: [1, ...a.filterShape] },
    }) as TensorInfo;
    const out = r(f5, a.filterShape);
    for (const t of [x5, dy5, f5]) backend.disposeData(t.dataId);
    return out;
  };
  registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc });
}
