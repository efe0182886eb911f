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

/**
 * The mean of `softDiceLoss` over the last axis's channels (N x S x S x C): the foreground and the cores of an
 * instance network weigh the same, although the cores have fewer pixels. One channel: `softDiceLoss` itself.
 */
export function channelwiseSoftDiceLoss(truth: tf.Tensor4D, prediction: tf.Tensor4D, smooth = 1): tf.Scalar {
  const channels = prediction.shape[3];
  if (channels === 1) return softDiceLoss(truth, prediction, smooth);
  return tf.tidy(() => {
    const t = tf.split(truth, channels, 3);
    const p = tf.split(prediction, channels, 3);
    return tf.div(tf.addN(t.map((ti, c) => softDiceLoss(ti, p[c], smooth))), channels) as tf.Scalar;
  });
}

/**
 * Mean over every pixel of `weights` times the binary cross-entropy of the probabilities `prediction` against the
 * 0/1 `truth` (probabilities clipped to [eps, 1 - eps], as Keras does, so that a saturated sigmoid gives a finite loss).
 */
export function weightedCrossEntropy(truth: tf.Tensor, prediction: tf.Tensor, weights: tf.Tensor, eps = 1e-7): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(prediction, eps, 1 - eps);
    const entropy = tf.neg(tf.add(tf.mul(truth, tf.log(p)), tf.mul(tf.sub(1, truth), tf.log(tf.sub(1, p)))));
    return tf.mean(tf.mul(weights, entropy)) as tf.Scalar;
  });
}
