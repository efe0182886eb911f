/**
 * ResizeNearestNeighbor, ResizeBilinear and their gradients, computed separably (rows, then columns) with
 * index_select / index_add over index and weight vectors worked out here exactly as TensorFlow defines the
 * sampling (alignCorners, halfPixelCenters), so that every flag combination matches tfjs's cpu backend.
 */
import type { ResizeBilinearAttrs, ResizeBilinearGradAttrs, ResizeNearestNeighborAttrs, ResizeNearestNeighborGradAttrs } from '@tensorflow/tfjs-core';
import { aten1, temp, toDtype } from '../aten.js';
import { add, kernel, mul, type NativeTensor } from '../kernel-util.js';
import type { TorchBackend } from '../torch-backend.js';

const indexSelect = aten1('index_select');
const indexAdd = aten1('index_add');
const zeros = aten1('zeros');

function scale(inSize: number, outSize: number, alignCorners: boolean): number {
  return alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
}

function nearestIndex(inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean): Int32Array {
  const s = scale(inSize, outSize, alignCorners);
  const idx = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const src = halfPixel ? s * (o + 0.5) : s * o;
    let i = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
    if (halfPixel) i = Math.max(0, i);
    idx[o] = i;
  }
  return idx;
}

function bilinearWeights(inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean) {
  const s = scale(inSize, outSize, alignCorners);
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const w = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const src = halfPixel ? Math.max(0, (o + 0.5) * s - 0.5) : o * s;
    const f = Math.floor(src);
    lo[o] = Math.min(f, inSize - 1);
    hi[o] = Math.min(Math.ceil(src), inSize - 1);
    w[o] = src - f;
  }
  return { lo, hi, w };
}

function ix(backend: TorchBackend, a: Int32Array): NativeTensor {
  return toDtype(temp(backend.native.fromArray(a, [a.length], backend.native.dtypes.int32)), backend.native.dtypes.int64);
}

function weight(backend: TorchBackend, w: Float32Array, axis: number): NativeTensor {
  const shape = [1, 1, 1, 1];
  shape[axis] = w.length;
  return temp(backend.native.fromArray(w, shape, backend.native.dtypes.float32));
}

function oneMinus(backend: TorchBackend, w: Float32Array, axis: number): NativeTensor {
  return weight(backend, w.map((v) => 1 - v), axis);
}

export const resizeNearestKernel = kernel('ResizeNearestNeighbor', ({ inputs, backend, attrs }) => {
  const { images } = inputs;
  const { alignCorners, halfPixelCenters, size } = attrs as unknown as ResizeNearestNeighborAttrs;
  const [, H, W] = images.shape;
  let y = indexSelect(backend.tensor(images), 1, ix(backend, nearestIndex(H, size[0], alignCorners, halfPixelCenters)));
  y = indexSelect(y, 2, ix(backend, nearestIndex(W, size[1], alignCorners, halfPixelCenters)));
  return backend.output(y, images.dtype);
});

export const resizeNearestGradKernel = kernel('ResizeNearestNeighborGrad', ({ inputs, backend, attrs }) => {
  const { images, dy } = inputs;
  const { alignCorners, halfPixelCenters } = attrs as unknown as ResizeNearestNeighborGradAttrs;
  const [N, H, W, C] = images.shape;
  const [, oh, ow] = dy.shape;
  const f32 = backend.native.dtypes.float32;
  const cols = indexAdd(zeros([N, oh, W, C], f32), 2, ix(backend, nearestIndex(W, ow, alignCorners, halfPixelCenters)), backend.tensor(dy), 1);
  const dx = indexAdd(zeros([N, H, W, C], f32), 1, ix(backend, nearestIndex(H, oh, alignCorners, halfPixelCenters)), cols, 1);
  return backend.output(dx, 'float32');
});

export const resizeBilinearKernel = kernel('ResizeBilinear', ({ inputs, backend, attrs }) => {
  const { images } = inputs;
  const { alignCorners, halfPixelCenters, size } = attrs as unknown as ResizeBilinearAttrs;
  const [, H, W] = images.shape;
  let x = backend.tensor(images);
  if (images.dtype !== 'float32') x = toDtype(x, backend.code('float32'));
  const r = bilinearWeights(H, size[0], alignCorners, halfPixelCenters);
  const c = bilinearWeights(W, size[1], alignCorners, halfPixelCenters);
  const rows = add(mul(indexSelect(x, 1, ix(backend, r.lo)), oneMinus(backend, r.w, 1)),
    mul(indexSelect(x, 1, ix(backend, r.hi)), weight(backend, r.w, 1)));
  const y = add(mul(indexSelect(rows, 2, ix(backend, c.lo)), oneMinus(backend, c.w, 2)),
    mul(indexSelect(rows, 2, ix(backend, c.hi)), weight(backend, c.w, 2)));
  return backend.output(y, 'float32');
});

export const resizeBilinearGradKernel = kernel('ResizeBilinearGrad', ({ inputs, backend, attrs }) => {
  const { images, dy } = inputs;
  const { alignCorners, halfPixelCenters } = attrs as unknown as ResizeBilinearGradAttrs;
  const [N, H, W, C] = images.shape;
  const [, oh, ow] = dy.shape;
  const f32 = backend.native.dtypes.float32;
  const r = bilinearWeights(H, oh, alignCorners, halfPixelCenters);
  const c = bilinearWeights(W, ow, alignCorners, halfPixelCenters);
  const g = backend.tensor(dy);
  let cols = zeros([N, oh, W, C], f32);
  cols = indexAdd(cols, 2, ix(backend, c.lo), mul(g, oneMinus(backend, c.w, 2)), 1);
  cols = indexAdd(cols, 2, ix(backend, c.hi), mul(g, weight(backend, c.w, 2)), 1);
  let dx = zeros([N, H, W, C], f32);
  dx = indexAdd(dx, 1, ix(backend, r.lo), mul(cols, oneMinus(backend, r.w, 1)), 1);
  dx = indexAdd(dx, 1, ix(backend, r.hi), mul(cols, weight(backend, r.w, 1)), 1);
  return backend.output(dx, 'float32');
});

