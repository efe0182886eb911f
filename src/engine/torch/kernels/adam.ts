/** The fused Adam update (engine/adam-update.ts) as one native pass; in the table only when the addon has it. */
import { ADAM_UPDATE, type AdamHyperparameters } from '../../adam-update.js';
import { temp } from '../aten.js';
import { kernel } from '../kernel-util.js';
import { requireNative } from '../native.js';

export const adamUpdateKernel = kernel(ADAM_UPDATE, ({ inputs, backend, attrs }) => {
  const step = requireNative().adamStep!;
  const { value, m, v, gradient, oneMinusAccBeta1, oneMinusAccBeta2 } = inputs;
  const { learningRate, beta1, beta2, epsilon } = attrs as unknown as AdamHyperparameters;
  const t = (x: typeof value) => backend.tensor(x);
  const out = step(t(value), t(m), t(v), t(gradient), t(oneMinusAccBeta1), t(oneMinusAccBeta2), learningRate, beta1, beta2, epsilon);
  return out.map((h) => backend.output(temp(h), 'float32'));
});
