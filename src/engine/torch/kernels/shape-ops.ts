/** Cast, Transpose, Concat, Slice, PadV2, Tile, Reverse, BroadcastTo, Pack, Unpack, SplitV, GatherV2. */
import { backend_util, slice_util, util, type CastAttrs, type ConcatAttrs, type GatherV2Attrs, type PackAttrs, type PadV2Attrs, type ReverseAttrs, type SliceAttrs, type SplitVAttrs, type TensorInfo, type TileAttrs, type TransposeAttrs, type UnpackAttrs, type BroadCastToAttrs } from '@tensorflow/tfjs-core';
import { aten1, toDtype } from '../aten.js';
import { constantPad, kernel, narrow, permute, reshape, type NativeTensor } from '../kernel-util.js';
import { UseFallback } from '../use-fallback.js';

const cat = aten1('cat');
const repeat = aten1('repeat');
const flip = aten1('flip');
const expand = aten1('expand');
const stack = aten1('stack');
const indexSelect = aten1('index_select');
const squeeze = aten1('squeeze', 'dim');
const selectInt = aten1('select', 'int');

export const castKernel = kernel('Cast', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const { dtype } = attrs as unknown as CastAttrs;
  if (dtype === 'string' || x.dtype === 'string') throw new UseFallback('string cast');
  return backend.output(backend.tensor(x), dtype);
});

export const transposeKernel = kernel('Transpose', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  return backend.output(permute(backend.tensor(x), (attrs as unknown as TransposeAttrs).perm), x.dtype);
});

export const concatKernel = kernel('Concat', ({ inputs, backend, attrs }) => {
  const list = Object.values(inputs) as TensorInfo[];
  const axis = util.parseAxisParam((attrs as unknown as ConcatAttrs).axis, list[0].shape)[0];
  backend_util.assertParamsConsistent(list.map((t) => t.shape), axis);
  const outShape = backend_util.computeOutShape(list.map((t) => t.shape), axis);
  const dtype = list[0].dtype;
  const nonEmpty = list.filter((t) => util.sizeFromShape(t.shape) > 0);
  if (nonEmpty.length === 0) return backend.makeTensorInfo(outShape, dtype);
  if (list.some((t) => t.dtype !== dtype)) throw new UseFallback('mixed dtypes');
  // bfloat16 inference activations (a U-Net's skip and upsampled halves) are joined as they are; any other mix is
  // joined in float32.
  const bfloat16 = nonEmpty.every((t) => backend.isBfloat16(t));
  const handles = nonEmpty.map((t) => (bfloat16 ? backend.storedTensor(t) : backend.tensor(t)));
  const y = handles.length === 1 ? handles[0] : cat(handles, axis);
  return backend.output(y, dtype, bfloat16);
});

export const sliceKernel = kernel('Slice', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const { begin, size } = attrs as unknown as SliceAttrs;
  const [b, s] = slice_util.parseSliceParams(x as never, begin, size);
  slice_util.assertParamsValid(x as never, b, s);
  let h = backend.tensor(x);
  for (let d = 0; d < b.length; d++) if (b[d] !== 0 || s[d] !== x.shape[d]) h = narrow(h, d, b[d], s[d]);
  return backend.output(h, x.dtype);
});

export const padKernel = kernel('PadV2', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const { paddings, constantValue } = attrs as unknown as PadV2Attrs;
  if (x.dtype === 'complex64') throw new UseFallback('complex');
  const pad: number[] = [];
  for (let d = paddings.length - 1; d >= 0; d--) pad.push(paddings[d][0], paddings[d][1]);
  if (x.shape.length === 0) return backend.output(backend.tensor(x), x.dtype);
  return backend.output(constantPad(backend.tensor(x), pad, constantValue), x.dtype);
});

export const tileKernel = kernel('Tile', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  return backend.output(repeat(backend.tensor(x), (attrs as unknown as TileAttrs).reps), x.dtype);
});

export const reverseKernel = kernel('Reverse', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const dims = util.parseAxisParam((attrs as unknown as ReverseAttrs).dims, x.shape);
  if (dims.length === 0) return backend.output(backend.tensor(x), x.dtype);
  return backend.output(flip(backend.tensor(x), dims), x.dtype);
});

export const broadcastToKernel = kernel('BroadcastTo', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  return backend.output(expand(backend.tensor(x), (attrs as unknown as BroadCastToAttrs).shape, false), x.dtype);
});

export const packKernel = kernel('Pack', ({ inputs, backend, attrs }) => {
  const list = Object.values(inputs) as TensorInfo[];
  const axis = (attrs as unknown as PackAttrs).axis;
  const rank = list[0].shape.length;
  const dim = axis < 0 ? axis + rank + 1 : axis;
  if (list.some((t) => t.dtype !== list[0].dtype)) throw new UseFallback('mixed dtypes');
  return backend.output(stack(list.map((t) => backend.tensor(t)), dim), list[0].dtype);
});

export const unpackKernel = kernel('Unpack', ({ inputs, backend, attrs }) => {
  const { value } = inputs;
  let axis = (attrs as unknown as UnpackAttrs).axis;
  if (axis < 0) axis += value.shape.length;
  const h = backend.tensor(value);
  const out: TensorInfo[] = [];
  for (let i = 0; i < value.shape[axis]; i++) out.push(backend.output(selectInt(h, axis, i), value.dtype));
  return out;
});

export const splitVKernel = kernel('SplitV', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const { numOrSizeSplits, axis } = attrs as unknown as SplitVAttrs;
  const $axis = util.parseAxisParam(axis, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, $axis);
  const h = backend.tensor(x);
  let start = 0;
  return sizes.map((s) => {
    const part = narrow(h, $axis, start, s);
    start += s;
    return backend.output(part, x.dtype);
  });
});

export const gatherV2Kernel = kernel('GatherV2', ({ inputs, backend, attrs }) => {
  const { x, indices } = inputs;
  const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
  if ((batchDims ?? 0) !== 0) throw new UseFallback('batchDims');
  const $axis = util.parseAxisParam(axis, x.shape)[0];
  const idx = toDtype(reshape(backend.tensor(indices), [-1]), backend.native.dtypes.int64);
  const y = indexSelect(backend.tensor(x), $axis, idx);
  const shape = [...x.shape.slice(0, $axis), ...indices.shape, ...x.shape.slice($axis + 1)];
  return backend.output(reshape(y, shape), x.dtype);
});

export const squeezeHelper = (h: NativeTensor, d: number) => squeeze(h, d);
