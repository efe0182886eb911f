/** Reshape, ExpandDims and Identity: new tensors on the same native storage (no copy). */
import { util, type ExpandDimsAttrs, type ReshapeAttrs } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel_util.js';
import { temp } from '../aten.js';

export const reshapeKernel = kernel('Reshape', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const shape = util.inferFromImplicitShape((attrs as unknown as ReshapeAttrs).shape, util.sizeFromShape(x.shape));
  const size = util.sizeFromShape(shape);
  util.assert(size === util.sizeFromShape(x.shape), () =>
    `new shape [${shape}] has ${size} elements but the tensor [${x.shape}] has ${util.sizeFromShape(x.shape)}; ` +
    'the sizes must match');
  return backend.output(temp(backend.native.view(backend.tensor(x), shape)), x.dtype);
});

export const expandDimsKernel = kernel('ExpandDims', ({ inputs, backend, attrs }) => {
  const { input } = inputs;
  let { dim } = attrs as unknown as ExpandDimsAttrs;
  const rank = input.shape.length;
  if (dim < 0) dim = rank + dim + 1;
  const shape = input.shape.slice();
  shape.splice(dim, 0, 1);
  return backend.output(temp(backend.native.view(backend.tensor(input), shape)), input.dtype);
});

export const identityKernel = kernel('Identity', ({ inputs, backend }) => {
  const { x } = inputs;
  return backend.output(temp(backend.native.view(backend.tensor(x), x.shape)), x.dtype);
});
