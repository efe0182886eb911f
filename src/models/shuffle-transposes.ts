/**
 * An inference copy of a model in which every transposed convolution whose kernel equals its stride (the U-Net's
 * 2 x 2, stride 2 up-convolutions) is a 1 x 1 convolution to block² x filters channels followed by depth-to-space
 * (a pixel shuffle). With kernel = stride the windows do not overlap: output pixel (s·i + a, s·j + c) is input
 * pixel (i, j) times the kernel's tap (a, c), which is what the 1 x 1 convolution computes for every tap at once;
 * the same function up to float rounding.
 *
 * Why: TensorFlow.js's wasm backend runs Conv2DBackpropInput as a plain loop, outside XNNPACK and its threads, while
 * its 1 x 1 convolution is XNNPACK's. Measured on the catalog's nuclei U-Net (32 base features, S = 64, batch 8,
 * wasm SIMD in Node): the four up-convolutions were 188 of 554 ms of kernel time, about 8% of the arithmetic.
 *
 * The copy is built from the model's JSON topology (the original is not touched); layers other than those
 * transposed convolutions keep their weights. Such a copy runs anywhere but cannot be exported to ONNX (its
 * up-sampling layer is this module's own class), so only the networks that run it make it (model-network.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { io } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
}

interface PixelShuffleUpConfig {
  name?: string;
  trainable?: boolean;
  dtype?: string;
  filters: number;
  block: number;
  useBias: boolean;
  activation: 'linear' | 'relu';
}

/** A 1 x 1 convolution to block² x filters channels (bias and ReLU fused), then depth-to-space by `block`. */
export class PixelShuffleUp extends tfl.layers.Layer {
  static readonly className = 'StsPixelShuffleUp';
  private readonly filters: number;
  private readonly block: number;
  private readonly useBias: boolean;
  private readonly activation: 'linear' | 'relu';
  private kernel?: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;

  constructor(config: PixelShuffleUpConfig) {
    super({ name: config.name, trainable: config.trainable, dtype: config.dtype as tf.DataType | undefined });
    this.filters = config.filters;
    this.block = config.block;
    this.useBias = config.useBias;
    this.activation = config.activation;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1] as number;
    const out = this.block * this.block * this.filters;
    this.kernel = this.addWeight('kernel', [1, 1, channels, out], 'float32', tfl.initializers.zeros());
    if (this.useBias) this.bias = this.addWeight('bias', [out], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [n, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [n, h == null ? null : h * this.block, w == null ? null : w * this.block, this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const y = tf.fused.conv2d({ x, filter: this.kernel!.read() as tf.Tensor4D, strides: 1, pad: 'valid', bias: this.bias?.read(), activation: this.activation });
      // Depth-to-space as one 4-d transpose of rows: [N·H, W, a, b·F] -> [N·H, a, W, b·F] is the image
      // [N, b·H, b·W, F]. The wasm backend's own DepthToSpace is a per-element loop 5 times slower (measured).
      const [n, h, w] = x.shape;
      const b = this.block;
      const rows = tf.reshape(y, [n * h, w, b, b * this.filters]);
      return tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [n, h * b, w * b, this.filters]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, block: this.block, useBias: this.useBias, activation: this.activation };
  }
}
tf.serialization.registerClass(PixelShuffleUp);

/** The block size of a transposed convolution this copy can replace, or undefined. */
function shuffleBlock(layer: LayerJson): number | undefined {
  const c = layer.config;
  if (layer.class_name !== 'Conv2DTranspose' || c.data_format === 'channels_first') return undefined;
  const [kh, kw] = c.kernel_size as number[];
  const [sh, sw] = c.strides as number[];
  const dilation = (c.dilation_rate as number[] | number | undefined) ?? 1;
  const activation = (c.activation as string | undefined) ?? 'linear';
  const undilated = Array.isArray(dilation) ? dilation.every((d) => d === 1) : dilation === 1;
  if (!(kh === kw && sh === sw && kh === sh && kh > 1 && undilated && ['linear', 'relu'].includes(activation))) return undefined;
  return kh;
}

export interface ShuffledModel {
  readonly model: tfl.LayersModel;
  /** Transposed convolutions replaced. */
  readonly replaced: number;
}

export async function transposesAsShuffles(model: tfl.LayersModel): Promise<ShuffledModel> {
  const json = model.toJSON(undefined, false) as unknown as { config: { layers: LayerJson[] } };
  const blocks = new Map<string, number>();
  for (const layer of json.config.layers) {
    const block = shuffleBlock(layer);
    if (block === undefined) continue;
    blocks.set(layer.name, block);
    const c = layer.config;
    layer.class_name = PixelShuffleUp.className;
    const config = { name: c.name, trainable: c.trainable, dtype: c.dtype, filters: c.filters, block, use_bias: c.use_bias ?? true, activation: c.activation ?? 'linear' };
    // tfjs-layers' deserializer walks every value: an undefined one fails it.
    layer.config = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
  }
  if (blocks.size === 0) return { model, replaced: 0 };
  const copy = await tfl.models.modelFromJSON({ modelTopology: json } as unknown as io.ModelJSON);
  for (const layer of copy.layers) {
    const block = blocks.get(layer.name);
    const weights = model.getLayer(layer.name).getWeights();
    if (block === undefined) {
      layer.setWeights(weights);
      continue;
    }
    // Conv2DTranspose's kernel is [block, block, filters, in]; the 1 x 1 kernel's output channel (a·block + c)·filters + o
    // is tap (a, c) of filter o, the order depth-to-space reads them in.
    const shuffled = tf.tidy(() => {
      const [kernel, bias] = weights;
      const [, , filters, channels] = kernel.shape;
      const k = tf.reshape(tf.transpose(kernel, [3, 0, 1, 2]), [1, 1, channels, block * block * filters]);
      return bias ? [k, tf.tile(bias, [block * block])] : [k];
    });
    layer.setWeights(shuffled);
    tf.dispose(shuffled);
  }
  return { model: copy, replaced: blocks.size };
}
