/** Reductions: Sum, Mean, Max, Min, Prod, All, Any, ArgMax, ArgMin. tfjs reduces over none for an empty axis list. */
import { util, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
import { aten1, toDtype } from '../aten.js';
import { kernel, type NativeTensor, type TorchKernel } from '../kernel-util.js';
import type { TorchBackend } from '../torch-backend.js';
import { UseFallback } from '../use-fallback.js';

const sum = aten1('sum', 'dim_IntList');
const mean = aten1('mean', 'dim');
const amax = aten1('amax');
const amin = aten1('amin');
const prod = aten1('prod', 'dim_int');
const all = aten1('all', 'dim');
const any = aten1('any', 'dim');
const argmax = aten1('argmax');
const argmin = aten1('argmin');

type Reducer = (x: NativeTensor, axes: number[], keep: boolean) => NativeTensor;

/** Applies a one-axis reducer over several axes, highest first so that the lower indices stay valid. */
const eachAxis = (f: (x: NativeTensor, d: number, k: boolean) => NativeTensor): Reducer => (x, axes, keep) => {
  for (const d of [...axes].sort((a, b) => b - a)) x = f(x, d, keep);
  return x;
};

function reduction(name: string, axisAttr: string, f: Reducer, out: (dt: DataType) => DataType,
  prep?: (x: NativeTensor, dt: DataType, b: TorchBackend) => NativeTensor): TorchKernel {
  return kernel(name, ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    if (x.dtype === 'complex64') throw new UseFallback('complex');
    const a = attrs as Record<string, unknown>;
    const axes = util.parseAxisParam(a[axisAttr] as number | number[], x.shape);
    const keep = Boolean(a.keepDims);
    let h = backend.tensor(x);
    if (prep) h = prep(h, x.dtype, backend);
    if (axes.length === 0) return backend.output(h, out(x.dtype));
    if (util.sizeFromShape(x.shape) === 0) throw new UseFallback('reduction of an empty tensor');
    return backend.output(f(h, axes, keep), out(x.dtype));
  });
}

const intOr = (dt: DataType): DataType => (dt === 'bool' ? 'int32' : dt);
const toFloat = (x: NativeTensor, dt: DataType, b: TorchBackend) => (dt === 'float32' ? x : toDtype(x, b.code('float32')));
const toBool = (x: NativeTensor, dt: DataType, b: TorchBackend) => (dt === 'bool' ? x : toDtype(x, b.code('bool')));

export const reduceKernels: TorchKernel[] = [
  reduction('Sum', 'axis', (x, axes, k) => sum(x, axes, k, null), intOr),
  reduction('Mean', 'axis', (x, axes, k) => mean(x, axes, k, null), () => 'float32', toFloat),
  reduction('Max', 'reductionIndices', (x, axes, k) => amax(x, axes, k), (dt) => dt),
  reduction('Min', 'axis', (x, axes, k) => amin(x, axes, k), (dt) => dt),
  reduction('Prod', 'axis', eachAxis((x, d, k) => prod(x, d, k, null)), intOr),
  reduction('All', 'axis', eachAxis((x, d, k) => all(x, d, k)), () => 'bool', toBool),
  reduction('Any', 'axis', eachAxis((x, d, k) => any(x, d, k)), () => 'bool', toBool),
];

function argReduction(name: string, f: typeof argmax): TorchKernel {
  return kernel(name, ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    const axes = util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
    if (axes.length !== 1) throw new UseFallback('several axes');
    let h = backend.tensor(x);
    if (x.dtype === 'bool') h = toDtype(h, backend.code('int32'));
    return backend.output(f(h, axes[0], false), 'int32');
  });
}

export const argKernels: TorchKernel[] = [argReduction('ArgMax', argmax), argReduction('ArgMin', argmin)];
