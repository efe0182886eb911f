/** A trained TensorFlow.js model as the pipeline's `SegmentationNetwork`. */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors.js';
import { foldBatchNorm } from '../models/fold-batch-norm.js';
import { transposesAsShuffles } from '../models/shuffle-transposes.js';
import type { Raster } from '../geometry/raster.js';
import type { DisposableNetwork, OutputKind } from '../types/network.js';

export interface ModelNetworkOptions {
  /** Inputs run through the model this many at a time, bounding memory for images with many crops. */
  readonly batchSize?: number;
  /**
   * Run a copy with each convolution -> batch norm -> ReLU chain folded into one convolution (default true): the
   * same output up to float rounding, faster. The copy is made on the first call from the weights then, so a
   * model that is still training should be wrapped with `fold: false`.
   */
  readonly fold?: boolean;
  /**
   * Run the (folded) copy with its kernel = stride transposed convolutions as 1 x 1 convolutions and a pixel
   * shuffle (models/shuffle-transposes.ts): the same output up to float rounding. Default: on the wasm backend,
   * whose transposed convolution is a plain loop outside XNNPACK (the catalog's nuclei U-Net ran 1.6 to 1.9 times
   * faster per input with it, wasm SIMD in Node); elsewhere off.
   */
  readonly shuffleTransposes?: boolean;
  /**
   * The network owns `model`: it disposes of it as soon as the folded copy exists (its weights' memory back), and
   * `dispose()` disposes of it if that has not happened. Otherwise the caller keeps and disposes of `model`.
   */
  readonly ownsModel?: boolean;
}

/** A network over a tfjs model; `dispose()` frees what it made (the folded copy) and what it owns. */
export type ModelNetwork = DisposableNetwork & { readonly outputs: OutputKind };

/** The model's input side S and channels, from its input layer (NHWC, square). */
export function modelInputShape(model: tfl.LayersModel): { size: number; channels: number } {
  const shape = model.inputs[0].shape;
  const [, h, w, c] = shape;
  if (shape.length !== 4 || h !== w || typeof h !== 'number' || typeof c !== 'number') {
    throw new ArgumentError('model', `expects a square NHWC input, got shape [${shape.join(', ')}]`);
  }
  return { size: h, channels: c };
}

/** The maps per pixel a model outputs: 1 (foreground), 2 (and object cores) or 3 (and centre flows); anything else is refused. */
export function modelOutputCount(model: tfl.LayersModel): OutputKind {
  const shape = model.outputs[0].shape;
  const c = shape[shape.length - 1];
  if (c !== 1 && c !== 2 && c !== 3) throw new ArgumentError('model', `outputs ${String(c)} maps per pixel; sts reads 1 (foreground), 2 (foreground and object cores) or 3 (foreground and centre flows)`);
  return c;
}

export function modelNetwork(model: tfl.LayersModel, { batchSize = 32, fold = true, ownsModel = false, shuffleTransposes }: ModelNetworkOptions = {}): ModelNetwork {
  const { size, channels } = modelInputShape(model);
  const outputCount = modelOutputCount(model);
  const pixels = size * size;
  // Values per input in the output: an instance model's maps are interleaved (foreground, core).
  const outputValues = pixels * outputCount;
  let runnable: Promise<tfl.LayersModel> | undefined;
  /** The copies made for inference (folded, then shuffled), disposed with the network. */
  const copies: tfl.LayersModel[] = [];
  let originalDisposed = false;
  const disposeOriginal = () => {
    if (ownsModel && !originalDisposed) model.dispose();
    originalDisposed = true;
  };
  const network = async (inputs: Raster<Float32Array>[]) => {
    runnable ??= (async () => {
      let net = model;
      if (fold) net = (await foldBatchNorm(net)).model;
      if (shuffleTransposes ?? tf.getBackend() === 'wasm') {
        const shuffled = (await transposesAsShuffles(net)).model;
        // The folded copy is not needed once the shuffled one exists.
        if (shuffled !== net && net !== model) net.dispose();
        net = shuffled;
      }
      if (net !== model) {
        copies.push(net);
        disposeOriginal();
      }
      return net;
    })();
    const net = await runnable;
    const outputs: Float32Array[] = [];
    for (let start = 0; start < inputs.length; start += batchSize) {
      const chunk = inputs.slice(start, start + batchSize);
      const batch = new Float32Array(chunk.length * pixels * channels);
      chunk.forEach((x, i) => {
        if (x.width !== size || x.height !== size || x.channels !== channels) {
          throw new ArgumentError(
            `input ${start + i}`,
            `is ${x.width} x ${x.height} x ${x.channels}; the model takes ${size} x ${size} x ${channels}`,
          );
        }
        batch.set(x.data, i * pixels * channels);
      });
      const y = tf.tidy(() => net.predict(tf.tensor4d(batch, [chunk.length, size, size, channels])) as tf.Tensor);
      const data = (await y.data()) as Float32Array;
      y.dispose();
      for (let i = 0; i < chunk.length; i++) outputs.push(data.slice(i * outputValues, (i + 1) * outputValues));
    }
    return outputs;
  };
  const dispose = () => {
    for (const copy of copies.splice(0)) copy.dispose();
    disposeOriginal();
  };
  return Object.assign(network, { dispose, outputs: outputCount });
}
