/** Select, Fill, ZerosLike, OnesLike, AddN, OneHot, Softmax, Prelu, EluGrad and the complex-number kernels. */
import { util, type FillAttrs, type OneHotAttrs, type SoftmaxAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { aten1, toDtype } from '../aten.js';
import { add, fullOp, gtScalar, kernel, mul, reshape, where } from '../kernel-util.js';
import { UseFallback } from '../use-fallback.js';

const zerosLike = aten1('zeros_like');
const onesLike = aten1('ones_like');
const complex = aten1('complex');
const real = aten1('real');
const imag = aten1('imag');
const abs = aten1('abs');
const softmax = aten1('_softmax');
const arange = aten1('arange', 'start');
const eq = aten1('eq', 'Tensor');
const unsqueeze = aten1('unsqueeze');
const ltScalar = aten1('lt', 'Scalar');
const addScalarT = aten1('add', 'Scalar');

export const selectKernel = kernel('Select', ({ inputs, backend }) => {
  const { condition, t, e } = inputs;
  let c = backend.tensor(condition);
  if (condition.dtype !== 'bool') c = toDtype(c, backend.code('bool'));
  if (condition.shape.length === 1 && t.shape.length > 1) {
    c = reshape(c, [condition.shape[0], ...t.shape.slice(1).map(() => 1)]);
  }
  const dtype = t.dtype;
  let he = backend.tensor(e);
  if (e.dtype !== dtype) he = toDtype(he, backend.code(dtype));
  return backend.output(where(c, backend.tensor(t), he), dtype);
});

export const fillKernel = kernel('Fill', ({ backend, attrs }) => {
  const { shape, value, dtype } = attrs as unknown as FillAttrs;
  const dt = dtype ?? util.inferDtype(value);
  if (dt === 'string' || typeof value === 'string') throw new UseFallback('string fill');
  return backend.output(fullOp(shape, value as number, backend.code(dt === 'complex64' ? 'float32' : dt)), dt);
});

export const zerosLikeKernel = kernel('ZerosLike', ({ inputs, backend }) => {
  const { x } = inputs;
  return backend.output(zerosLike(backend.tensor(x)), x.dtype);
});

export const onesLikeKernel = kernel('OnesLike', ({ inputs, backend }) => {
  const { x } = inputs;
  return backend.output(onesLike(backend.tensor(x)), x.dtype);
});

export const complexKernel = kernel('Complex', ({ inputs, backend }) => {
  const { real: re, imag: im } = inputs;
  return backend.output(complex(backend.tensor(re), backend.tensor(im)), 'complex64');
});

export const realKernel = kernel('Real', ({ inputs, backend }) => {
  const { input } = inputs;
  return backend.output(real(backend.tensor(input)), 'float32');
});

export const imagKernel = kernel('Imag', ({ inputs, backend }) => {
  const { input } = inputs;
  return backend.output(imag(backend.tensor(input)), 'float32');
});

export const complexAbsKernel = kernel('ComplexAbs', ({ inputs, backend }) => {
  const { x } = inputs;
  return backend.output(abs(backend.tensor(x)), 'float32');
});

export const addNKernel = kernel('AddN', ({ inputs, backend }) => {
  const list = Object.values(inputs) as TensorInfo[];
  let y = backend.tensor(list[0]);
  for (let i = 1; i < list.length; i++) y = add(y, backend.tensor(list[i]));
  return backend.output(y, list[0].dtype);
});

export const oneHotKernel = kernel('OneHot', ({ inputs, backend, attrs }) => {
  const { indices } = inputs;
  const { depth, onValue, offValue, dtype } = attrs as unknown as OneHotAttrs;
  if (dtype === 'string' || dtype === 'complex64') throw new UseFallback(dtype);
  const code = backend.code(dtype);
  const i64 = backend.native.dtypes.int64;
  const idx = unsqueeze(toDtype(backend.tensor(indices), i64), -1);
  const hot = eq(idx, arange(0, depth, i64));
  return backend.output(where(hot, fullOp([], onValue, code), fullOp([], offValue, code)), dtype);
});

export const softmaxKernel = kernel('Softmax', ({ inputs, backend, attrs }) => {
  const { logits } = inputs;
  const { dim } = attrs as unknown as SoftmaxAttrs;
  return backend.output(softmax(backend.tensor(logits), dim, false), 'float32');
});

export const preluKernel = kernel('Prelu', ({ inputs, backend }) => {
  const { x, alpha } = inputs;
  const hx = backend.tensor(x);
  return backend.output(where(gtScalar(hx, 0), hx, mul(hx, backend.tensor(alpha))), 'float32');
});

export const eluGradKernel = kernel('EluGrad', ({ inputs, backend }) => {
  const { dy, y } = inputs;
  const hy = backend.tensor(y);
  const hdy = backend.tensor(dy);
  return backend.output(where(ltScalar(hy, 0), mul(hdy, addScalarT(hy, 1)), hdy), 'float32');
});
