/**
 * An inference copy of a trained model in which every convolution -> batch norm [-> ReLU] chain is one convolution
 * with bias (and ReLU). In inference, batch norm is a per-channel affine map, so it folds into the convolution's
 * filter and bias: the same function up to float rounding, without two passes over every activation. Measured on
 * the reference U-Net at 64 x 64, batch 16 (torch, 2 cores): batch norm and ReLU were 11 of 175 ms of kernel time.
 *
 * The copy is built from the model's JSON topology (the original is not touched) and reads the weights once, so a
 * model trained further needs a new copy. Chains that are not plain (a convolution with its own activation, or
 * whose output also goes elsewhere; a batch norm over another axis) are left as they are.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { io } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** One layer of a functional model's JSON config (tfjs-layers' Keras-style, snake_case keys). */
interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** Per call node: [layer name, node index, tensor index, kwargs] for each input. */
  inbound_nodes: [string, number, number, unknown][][];
}

interface ModelJson {
  class_name: string;
  config: { layers: LayerJson[]; output_layers: [string, number, number][]; input_layers: unknown };
}

interface Chain {
  conv: string;
  batchNorm: string;
  relu?: string;
}

export interface FoldedModel {
  readonly model: tfl.LayersModel;
  /** Convolutions that absorbed a batch norm. */
  readonly folded: number;
}

export async function foldBatchNorm(model: tfl.LayersModel): Promise<FoldedModel> {
  const json = model.toJSON(undefined, false) as unknown as ModelJson;
  const layers = json.config.layers;
  const chains = findChains(json);
  if (chains.length === 0) return { model, folded: 0 };

  const replaced = new Map<string, string>(); // removed layer -> the convolution that now outputs its value
  for (const c of chains) {
    const conv = layers.find((l) => l.name === c.conv)!;
    conv.config.use_bias = true;
    conv.config.activation = c.relu ? 'relu' : 'linear';
    replaced.set(c.batchNorm, c.conv);
    if (c.relu) replaced.set(c.relu, c.conv);
  }
  json.config.layers = layers.filter((l) => !replaced.has(l.name));
  for (const l of json.config.layers) {
    for (const node of l.inbound_nodes) {
      for (const input of node) if (replaced.has(input[0])) [input[0], input[1], input[2]] = [replaced.get(input[0])!, 0, 0];
    }
  }
  for (const out of json.config.output_layers) if (replaced.has(out[0])) [out[0], out[1], out[2]] = [replaced.get(out[0])!, 0, 0];

  const folded = await tfl.models.modelFromJSON({ modelTopology: json } as unknown as io.ModelJSON);
  const byConv = new Map(chains.map((c) => [c.conv, c]));
  for (const layer of folded.layers) {
    const chain = byConv.get(layer.name);
    const weights = chain ? foldedWeights(model, chain) : model.getLayer(layer.name).getWeights();
    layer.setWeights(weights);
    if (chain) tf.dispose(weights);
  }
  return { model: folded, folded: chains.length };
}

/** Convolution -> batch norm [-> ReLU] chains where each link is the previous one's only consumer. */
function findChains(json: ModelJson): Chain[] {
  const layers = json.config.layers;
  const outputs = new Set(json.config.output_layers.map((o) => o[0]));
  const consumers = new Map<string, LayerJson[]>();
  for (const l of layers) {
    if (l.inbound_nodes.length > 1) return []; // a shared layer: node indices would need remapping; not in our models
    for (const node of l.inbound_nodes) for (const [name] of node) consumers.set(name, [...(consumers.get(name) ?? []), l]);
  }
  const only = (name: string): LayerJson | undefined => {
    const c = consumers.get(name) ?? [];
    return c.length === 1 && !outputs.has(name) && c[0].inbound_nodes[0].length === 1 ? c[0] : undefined;
  };
  const chains: Chain[] = [];
  for (const l of layers) {
    const cfg = l.config;
    if (l.class_name !== 'Conv2D' || (cfg.activation ?? 'linear') !== 'linear' || cfg.data_format === 'channels_first') continue;
    const bn = only(l.name);
    if (!bn || bn.class_name !== 'BatchNormalization' || ![-1, 3].includes(bn.config.axis as number)) continue;
    const next = only(bn.name);
    const isRelu =
      next !== undefined &&
      ((next.class_name === 'ReLU' && next.config.max_value == null && !next.config.negative_slope && !next.config.threshold) ||
        (next.class_name === 'Activation' && next.config.activation === 'relu'));
    chains.push({ conv: l.name, batchNorm: bn.name, relu: isRelu ? next.name : undefined });
  }
  return chains;
}

/** filter * s and bias * s + (beta - mean * s), s = gamma / sqrt(variance + epsilon), per output channel. */
function foldedWeights(model: tfl.LayersModel, chain: Chain): tf.Tensor[] {
  const conv = model.getLayer(chain.conv);
  const bn = model.getLayer(chain.batchNorm);
  const cfg = bn.getConfig() as { epsilon: number; center: boolean; scale: boolean };
  return tf.tidy(() => {
    const [kernel, convBias] = conv.getWeights();
    const bnWeights = [...bn.getWeights()];
    const gamma = cfg.scale ? bnWeights.shift()! : tf.scalar(1);
    const beta = cfg.center ? bnWeights.shift()! : tf.scalar(0);
    const [mean, variance] = bnWeights;
    const s = tf.div(gamma, tf.sqrt(tf.add(variance, cfg.epsilon)));
    const shift = tf.sub(beta, tf.mul(mean, s));
    const bias = convBias ? tf.add(tf.mul(convBias, s), shift) : tf.add(tf.zerosLike(mean), shift);
    return [tf.mul(kernel, s), bias];
  });
}
