/**
 * tfjs's Adam, with each variable's update as one fused op where the engine has one (torch): the update costs a
 * dozen kernels per variable otherwise, a fifth of a U-Net step at S = 32. The state (moments, bias corrections,
 * iterations) lives in the base class's own fields, so checkpoints are tfjs's and resume either way; without the
 * fused kernel the base class's update runs unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamUpdate, hasFusedAdam } from '../engine/adam-update.js';

/** The base class's private state this subclass reads and writes. */
interface Internals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** `epsilon`: PyTorch's 1e-8 by default; null takes the backend's (1e-7 for float32), as tf.train.adam does. */
  constructor(learningRate: number, epsilon: number | null = 1e-8) {
    super(learningRate, 0.9, 0.999, epsilon as number);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!hasFusedAdam()) return super.applyGradients(variableGradients);
    const self = this as unknown as Internals;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const hyper = { learningRate: self.learningRate, beta1: self.beta1, beta2: self.beta2, epsilon: self.epsilon };
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, self.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, self.accBeta2);
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        // Moments are made on first use, named as the base class names them (checkpoints depend on it).
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        const next = adamUpdate({ value, m, v, gradient, oneMinusAccBeta1, oneMinusAccBeta2 }, hyper);
        m.assign(next.m);
        v.assign(next.v);
        value.assign(next.value);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    this.incrementIterations();
  }
}
