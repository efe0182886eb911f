/**
 * Adam's update of one variable as one op, for engines with a fused kernel for it (torch: one native pass). The
 * optimizer that uses it is train/adam.ts; other engines keep tfjs's own Adam.
 */
import { type NamedAttrMap, type Tensor, engine, getKernel } from '@tensorflow/tfjs-core';

export const ADAM_UPDATE = 'StsAdamUpdate';

/** True when the active backend has the fused kernel. */
export function hasFusedAdam(): boolean {
  return getKernel(ADAM_UPDATE, engine().backendName) !== undefined;
}

export interface AdamHyperparameters {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

/** The new value and moments of a variable, given its gradient and 1 - beta^t for both moments (scalars). */
export function adamUpdate(
  inputs: { value: Tensor; m: Tensor; v: Tensor; gradient: Tensor; oneMinusAccBeta1: Tensor; oneMinusAccBeta2: Tensor },
  hyper: AdamHyperparameters,
): { value: Tensor; m: Tensor; v: Tensor } {
  const [value, m, v] = engine().runKernel(ADAM_UPDATE, inputs, { ...hyper } as unknown as NamedAttrMap) as Tensor[];
  return { value, m, v };
}
