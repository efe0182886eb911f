/**
 * Conv2DBackpropFilter for the wasm backend, which ships none (so it cannot train a convolutional network):
 * Conv3DBackpropFilterV2 with a depth of 1 for stride 1 (NHWC, 'same'/'valid' padding); for larger strides (wasm's
 * Conv3DBackpropFilterV2 gives wrong values there in 4.22, checked against the cpu backend) one matrix product per
 * kernel offset on wasm's own kernels (the U-Net's 2 x 2 stride-2 transposed convolutions, which the cpu kernel made
 * take minutes per step); anything else (explicit padding, NCHW) through the cpu kernel and a copy.
 */
import { getKernel, getKernelsForBackend, registerKernel, type Conv2DBackpropFilterAttrs, type KernelBackend, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { fallbackKernel } from '../torch/fallback.js';

export function registerWasmConv2DBackpropFilter(): void {
  if (getKernel('Conv2DBackpropFilter', 'wasm')) return;
  const conv3d = getKernel('Conv3DBackpropFilterV2', 'wasm');
  const reshape = getKernel('Reshape', 'wasm');
  const cpu = getKernelsForBackend('cpu').find((k) => k.kernelName === 'Conv2DBackpropFilter');
  const viaCpu = cpu ? fallbackKernel(cpu) : null;
  const strided = stridedByMatMul();
  const kernelFunc: KernelFunc = (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const a = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const backend = args.backend as KernelBackend & { disposeData(id: object): boolean };
    const strides = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
    // (tfjs has no dilated Conv2DBackpropFilter: conv2d's gradient requires dilation 1.)
    const plain = (a.pad === 'same' || a.pad === 'valid') && (a.dataFormat ?? 'NHWC') === 'NHWC';
    if (plain && (strides[0] > 1 || strides[1] > 1) && strided) return strided(x, dy, a.filterShape, strides as [number, number], a.pad as 'same' | 'valid', backend);
    const simple = plain && strides[0] === 1 && strides[1] === 1;
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

type Backend = KernelBackend & { disposeData(id: object): boolean };

/**
 * dW[kh, kw] = X(kh, kw)^T . dY, where X(kh, kw) holds, for every output position, the input pixel that kernel
 * offset (kh, kw) reads: a strided slice of the padded input. Same arithmetic as the direct sum, on wasm's
 * StridedSlice, BatchMatMul and Concat kernels.
 */
function stridedByMatMul() {
  const k = (name: string) => getKernel(name, 'wasm');
  const [pad, slice, matmul, concat, reshape] = ['PadV2', 'StridedSlice', 'BatchMatMul', 'Concat', 'Reshape'].map(k);
  if (!pad || !slice || !matmul || !concat || !reshape) return null;
  return (x: TensorInfo, dy: TensorInfo, filterShape: [number, number, number, number], strides: [number, number], padding: 'same' | 'valid', backend: Backend): TensorInfo => {
    const [n, h, w, ci] = x.shape;
    const [, oh, ow, co] = dy.shape;
    const [kh, kw] = filterShape;
    const run = (kernel: NonNullable<typeof pad>, inputs: Record<string, TensorInfo | TensorInfo[]>, attrs: object) =>
      kernel.kernelFunc({ inputs: inputs as never, backend, attrs: attrs as never }) as TensorInfo;
    const padTotal = (size: number, out: number, kernel: number, stride: number) => (padding === 'same' ? Math.max((out - 1) * stride + kernel - size, 0) : 0);
    const ph = padTotal(h, oh, kh, strides[0]);
    const pw = padTotal(w, ow, kw, strides[1]);
    const temps: TensorInfo[] = [];
    const padded = ph || pw ? run(pad, { x }, { paddings: [[0, 0], [Math.floor(ph / 2), ph - Math.floor(ph / 2)], [Math.floor(pw / 2), pw - Math.floor(pw / 2)], [0, 0]], constantValue: 0 }) : x;
    if (padded !== x) temps.push(padded);
    const m = n * oh * ow;
    const dy3 = run(reshape, { x: dy }, { shape: [1, m, co] });
    temps.push(dy3);
    const parts: TensorInfo[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const xs = run(slice, { x: padded }, {
          begin: [0, i, j, 0], end: [n, i + (oh - 1) * strides[0] + 1, j + (ow - 1) * strides[1] + 1, ci], strides: [1, strides[0], strides[1], 1],
          beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
        });
        const x3 = run(reshape, { x: xs }, { shape: [1, m, ci] });
        parts.push(run(matmul, { a: x3, b: dy3 }, { transposeA: true, transposeB: false }));
        temps.push(xs, x3);
      }
    }
    const all = parts.length === 1 ? parts[0] : run(concat, parts as never, { axis: 0 });
    const out = run(reshape, { x: all }, { shape: filterShape });
    for (const t of [...temps, ...parts, ...(all === parts[0] ? [] : [all])]) backend.disposeData(t.dataId);
    return out;
  };
}
