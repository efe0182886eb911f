/** The reference's training loss. */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Soft Dice loss over the whole batch (one sum over every pixel of every sample, not a mean of per-sample Dice),
 * with smoothing 1: `1 - (2 * sum(p * y) + 1) / (sum(p) + sum(y) + 1)`.
 */
export function softDiceLoss(truth: tf.Tensor, prediction: tf.Tensor, smooth = 1): tf.Scalar {
  return tf.tidy(() => {
    const intersection = tf.sum(tf.mul(prediction, truth));
    const total = tf.add(tf.sum(prediction), tf.sum(truth));
    return tf.sub(1, tf.div(tf.add(tf.mul(2, intersection), smooth), tf.add(total, smooth))) as tf.Scalar;
  });
}
