/**
 * Element-wise binary kernels with numpy broadcasting (as tfjs and ATen both define it): one table row each.
 */
import { backend_util, util, type DataType, type TensorInfo } from '@tensorflow/tfjs-core';
import type { TorchBackend } from '../torch-backend.js';
import { aten1, toDtype } from '../aten.js';
import { kernel, type NativeTensor, type TorchKernel } from '../kernel-util.js';
import { UseFallback } from '../use-fallback.js';

type Out = 'upcast' | 'bool' | 'float32';
interface Row {
  name: string;
  f: (a: NativeTensor, b: NativeTensor) => NativeTensor;
  out: Out;
  /** Compute in float32 even for int32 inputs, then cast back to the output dtype. */
  viaFloat?: boolean;
  complex?: boolean;
  /** A bfloat16 inference activation stays bfloat16 through it (see `sumInBfloat16`). */
  keepsBfloat16?: boolean;
}
const op = (n: string, o = '') => aten1(n, o);
const addT = op('add', 'Tensor');
const subT = op('sub', 'Tensor');
const mulT = op('mul', 'Tensor');
const divT = op('div', 'Tensor');
const divMode = op('div', 'Tensor_mode');
const powT = op('pow', 'Tensor_Tensor');
const remT = op('remainder', 'Tensor');
const sq = op('square');

const rows: Row[] = [
  { name: 'Add', f: (a, b) => addT(a, b), out: 'upcast', complex: true, keepsBfloat16: true },
  { name: 'Sub', f: (a, b) => subT(a, b), out: 'upcast', complex: true },
  { name: 'Multiply', f: (a, b) => mulT(a, b), out: 'upcast', complex: true },
  { name: 'RealDiv', f: (a, b) => divT(a, b), out: 'float32', complex: true },
  { name: 'FloorDiv', f: (a, b) => divMode(a, b, 'floor'), out: 'upcast', viaFloat: true },
  { name: 'Maximum', f: op('maximum'), out: 'upcast' },
  { name: 'Minimum', f: op('minimum'), out: 'upcast' },
  { name: 'Pow', f: (a, b) => powT(a, b), out: 'upcast', viaFloat: true },
  { name: 'Mod', f: (a, b) => remT(a, b), out: 'upcast', viaFloat: true },
  { name: 'Atan2', f: op('atan2'), out: 'float32', viaFloat: true },
  { name: 'SquaredDifference', f: (a, b) => sq(subT(a, b)), out: 'upcast' },
  { name: 'Equal', f: op('eq', 'Tensor'), out: 'bool' },
  { name: 'NotEqual', f: op('ne', 'Tensor'), out: 'bool' },
  { name: 'Less', f: op('lt', 'Tensor'), out: 'bool' },
  { name: 'LessEqual', f: op('le', 'Tensor'), out: 'bool' },
  { name: 'Greater', f: op('gt', 'Tensor'), out: 'bool' },
  { name: 'GreaterEqual', f: op('ge', 'Tensor'), out: 'bool' },
  { name: 'LogicalAnd', f: op('logical_and'), out: 'bool' },
  { name: 'LogicalOr', f: op('logical_or'), out: 'bool' },
];

function make(r: Row): TorchKernel {
  return kernel(r.name, ({ inputs, backend }) => {
    const { a, b } = inputs;
    if (!r.complex && (a.dtype === 'complex64' || b.dtype === 'complex64')) throw new UseFallback('complex');
    if (r.keepsBfloat16) {
      const y = sumInBfloat16(backend, a, b, r.f);
      if (y !== null) return backend.output(y, 'float32', true);
    }
    let ha = backend.tensor(a);
    let hb = backend.tensor(b);
    const up = backend_util.upcastType(a.dtype, b.dtype) as DataType;
    if (r.viaFloat || a.dtype !== b.dtype) {
      const t = r.viaFloat && up !== 'complex64' ? 'float32' : up;
      if (a.dtype !== t) ha = toDtype(ha, backend.code(t));
      if (b.dtype !== t) hb = toDtype(hb, backend.code(t));
    }
    const y = r.f(ha, hb);
    const out: DataType = r.out === 'bool' ? 'bool' : r.out === 'float32' ? (up === 'complex64' ? 'complex64' : 'float32') : up;
    return backend.output(y, out);
  });
}

/**
 * A bfloat16 inference activation plus another (a residual connection) or plus a smaller float32 tensor (a bias
 * broadcast over it) stays bfloat16, so that the next convolution needs no cast; null for any other sum.
 */
function sumInBfloat16(backend: TorchBackend, a: TensorInfo, b: TensorInfo, add: Row['f']): NativeTensor | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const [ba, bb] = [backend.isBfloat16(a), backend.isBfloat16(b)];
  if (!ba && !bb) return null;
  if (ba && bb) return add(backend.storedTensor(a), backend.storedTensor(b));
  const [act, other] = ba ? [a, b] : [b, a];
  const out = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  if (!util.arraysEqual(act.shape, out) || util.sizeFromShape(other.shape) >= util.sizeFromShape(act.shape)) return null;
  return add(backend.storedTensor(act), toDtype(backend.tensor(other), backend.native.dtypes.bfloat16));
}

export const binaryKernels: TorchKernel[] = rows.map(make);
