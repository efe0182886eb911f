/**
 * Reshape, ExpandDims and Identity share the input's DataId (reference-counted, as tfjs's cpu backend does);
 * the backend views the native tensor in the new shape when a kernel reads it.
 */
import { util, type ExpandDimsAttrs, type ReshapeAttrs } from '@tensorflow/tfjs-core';
import { kernel } from '../kernel-util.js';

export const reshapeKernel = kernel('Reshape', ({ inputs, backend, attrs }) => {
  const { x } = inputs;
  const shape = util.inferFromImplicitShape((attrs as unknown as ReshapeAttrs).shape, util.sizeFromShape(x.shape));
  const size = util.sizeFromShape(shape);
  util.assert(size === util.sizeFromShape(x.shape), () =>
    `new shape [${shape}] has ${size} elements but the tensor [${x.shape}] has ${util.sizeFromShape(x.shape)}; ` +
    'the sizes must match');
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
});

export const expandDimsKernel = kernel('ExpandDims', ({ inputs, backend, attrs }) => {
  const { input } = inputs;
  let { dim } = attrs as unknown as ExpandDimsAttrs;
  const rank = input.shape.length;
  util.assert(dim >= -(rank + 1) && dim <= rank, () => `axis ${dim} must be in [${-(rank + 1)}, ${rank}] for a tensor of rank ${rank}`);
  if (dim < 0) dim = rank + dim + 1;
  const shape = input.shape.slice();
  shape.splice(dim, 0, 1);
  backend.incRef(input.dataId);
  return { dataId: input.dataId, shape, dtype: input.dtype };
});

export const identityKernel = kernel('Identity', ({ inputs, backend }) => {
  const { x } = inputs;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
});
