/**
 * Element-wise unary kernels: one table row each (tfjs kernel name -> ATen operator), as they differ only in the
 * operator. Float-only ATen operators get int32 inputs cast to float32 first.
 */
import { aten1, temp, toDtype } from '../aten.js';
import { requireNative } from '../native.js';
import { kernel, where, type NativeTensor, type TorchKernel } from '../kernel-util.js';
import type { DataType } from '@tensorflow/tfjs-core';
import { UseFallback } from '../use-fallback.js';

type Out = 'same' | 'float32' | 'bool';
interface Row {
  name: string;
  f: (x: NativeTensor, attrs: Record<string, unknown>) => NativeTensor;
  out?: Out;
  floatOnly?: boolean;
  /** int32 in, int32 out (computed in float32). */
  keepInt?: boolean;
}

const simple = (name: string, aname: string, extra: Partial<Row> = {}): Row => {
  const f = aten1(aname);
  return { name, f: (x) => f(x), ...extra };
};

const isnan = aten1('isnan');
const gt = aten1('gt', 'Scalar');
const fullLike = aten1('full_like');
const hardtanh = aten1('hardtanh');
const eluOp = aten1('elu');
const leaky = aten1('leaky_relu');
const clampOp = aten1('clamp');
const softplus = aten1('softplus');
const squareOp = aten1('square');

const rows: Row[] = [
  simple('Abs', 'abs'),
  simple('Acos', 'acos', { floatOnly: true }),
  simple('Acosh', 'acosh', { floatOnly: true }),
  simple('Asin', 'asin', { floatOnly: true }),
  simple('Asinh', 'asinh', { floatOnly: true }),
  simple('Atan', 'atan', { floatOnly: true }),
  simple('Atanh', 'atanh', { floatOnly: true }),
  simple('Ceil', 'ceil', { floatOnly: true }),
  simple('Cos', 'cos', { floatOnly: true }),
  simple('Cosh', 'cosh', { floatOnly: true }),
  simple('Erf', 'erf', { floatOnly: true }),
  simple('Exp', 'exp', { floatOnly: true }),
  simple('Expm1', 'expm1', { floatOnly: true }),
  simple('Floor', 'floor', { floatOnly: true }),
  simple('IsFinite', 'isfinite', { out: 'bool' }),
  simple('IsInf', 'isinf', { out: 'bool' }),
  simple('IsNan', 'isnan', { out: 'bool' }),
  simple('Log', 'log', { floatOnly: true }),
  simple('Log1p', 'log1p', { floatOnly: true }),
  simple('LogicalNot', 'logical_not', { out: 'bool' }),
  simple('Neg', 'neg'),
  simple('Reciprocal', 'reciprocal', { floatOnly: true }),
  simple('Relu', 'relu'),
  { name: 'Relu6', f: (x) => hardtanh(x, 0, 6), floatOnly: true, keepInt: true },
  simple('Round', 'round', { floatOnly: true, keepInt: true }),
  simple('Rsqrt', 'rsqrt', { floatOnly: true }),
  simple('Selu', 'selu', { floatOnly: true }),
  simple('Sigmoid', 'sigmoid', { floatOnly: true }),
  simple('Sign', 'sign'),
  simple('Sin', 'sin', { floatOnly: true }),
  simple('Sinh', 'sinh', { floatOnly: true }),
  { name: 'Softplus', f: (x) => softplus(x, 1, 20), floatOnly: true },
  simple('Sqrt', 'sqrt', { floatOnly: true }),
  { name: 'Square', f: (x) => squareOp(x) },
  simple('Tan', 'tan', { floatOnly: true }),
  simple('Tanh', 'tanh', { floatOnly: true }),
  { name: 'Elu', f: (x) => eluOp(x, 1, 1, 1), floatOnly: true },
  { name: 'LeakyRelu', f: (x, a) => leaky(x, a.alpha as number), floatOnly: true },
  {
    name: 'ClipByValue',
    f: (x, a) => clampOp(x, a.clipValueMin as number, a.clipValueMax as number),
  },
  {
    // tfjs: x > 0 ? 1 : alpha, and NaN stays NaN
    name: 'Step',
    f: (x, a) => {
      const step = requireNative().step;
      if (step) return temp(step(x, a.alpha as number));
      return where(isnan(x), x, where(gt(x, 0), fullLike(x, 1), fullLike(x, a.alpha as number)));
    },
    floatOnly: true,
    keepInt: true,
  },
];

function make(r: Row): TorchKernel {
  return kernel(r.name, ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    if (x.dtype === 'complex64') throw new UseFallback('complex input');
    let h = backend.tensor(x);
    if (r.floatOnly && x.dtype !== 'float32') h = toDtype(h, backend.code('float32'));
    const y = r.f(h, (attrs ?? {}) as Record<string, unknown>);
    const out: DataType = r.out === 'bool' ? 'bool' : r.keepInt && x.dtype === 'int32' ? 'int32'
      : r.floatOnly || r.out === 'float32' ? 'float32' : x.dtype;
    return backend.output(y, out);
  });
}

export const unaryKernels: TorchKernel[] = rows.map(make);
