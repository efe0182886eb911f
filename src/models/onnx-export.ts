/**
 * A trained model as an ONNX graph, so that networks trained with `sts train` run where TensorFlow.js does not
 * (ONNX Runtime on GPU servers, TensorRT, OpenVINO). The model is first folded (fold-batch-norm.ts: each
 * convolution -> batch norm -> ReLU chain becomes one convolution, as at inference), then each tfjs layer becomes
 * the ONNX operators that compute the same function, in NCHW as ONNX runtimes expect. Written with onnx-proto's
 * generated protobuf classes, at opset 13 (ONNX 1.8), which ONNX Runtime, TensorRT 8+ and OpenVINO all read.
 *
 * Only the layers our three architectures use are mapped; any other is an error naming the layer, never a graph
 * that computes something else. TensorFlow's "same" padding is written as explicit pads (more at the end, as
 * TensorFlow pads), and tfjs's UpSampling2D as Resize with asymmetric coordinates (tf.image.resize* without
 * half-pixel centres).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import onnxProto from 'onnx-proto';
import { StsError } from '../errors.js';
import { foldBatchNorm } from './fold-batch-norm.js';

const { onnx } = onnxProto;

/** The opset written: old enough for every major runtime, new enough for Resize with scales and Reshape's 0. */
export const ONNX_OPSET = 13;
/** ONNX IR version 7 is the one that goes with opset 13. */
const IR_VERSION = 7;

export interface OnnxExportOptions {
  /** Stored in the model's `sts` metadata property with the feeding convention (onnx-convention.ts's sidecar). */
  readonly sidecar: Record<string, unknown>;
  readonly producerVersion?: string;
  /** The graph's name (default: the model's). */
  readonly name?: string;
}

interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, unknown][][];
}

/** The NHWC shape tfjs gives a layer's output (batch first, null). */
type Shape = (number | null)[];

/** The model as ONNX bytes: `input` N x C x S x S float32 in, `output` N x 1 x S x S out. */
export async function onnxOfModel(model: tfl.LayersModel, o: OnnxExportOptions): Promise<Uint8Array> {
  const { model: folded } = await foldBatchNorm(model);
  try {
    return encode(folded, o);
  } finally {
    if (folded !== model) folded.dispose();
  }
}

function encode(model: tfl.LayersModel, o: OnnxExportOptions): Uint8Array {
  const json = model.toJSON(undefined, false) as unknown as { config: { layers: LayerJson[]; output_layers: [string, number, number][] } };
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  const tensorOf = new Map<string, string>(); // tfjs layer -> the ONNX value holding its output
  let counter = 0;
  const fresh = (base: string) => `${base}__${++counter}`;
  const node = (opType: string, inputs: string[], output: string, attributes: InstanceType<typeof onnx.AttributeProto>[] = [], name = output) => {
    nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [output], name, attribute: attributes }));
    return output;
  };
  const floats = (name: string, dims: number[], values: Float32Array) => {
    // Little-endian float32, as ONNX stores raw data (and as every platform this runs on lays out a Float32Array).
    initializers.push(onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) }));
    return name;
  };
  const int64s = (name: string, values: number[]) => {
    initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values }));
    return name;
  };
  let inputShape: Shape | undefined;
  const inputName = 'input';

  for (const l of json.config.layers) {
    const layer = model.getLayer(l.name);
    const fail = (problem: string) => new StsError(`layer '${l.name}' (${l.class_name}): ${problem}; sts export maps the layers of the unet, resunetpp and deeplabv3plus models that sts train writes`);
    if (l.class_name === 'InputLayer') {
      inputShape = (l.config.batch_input_shape as Shape) ?? null;
      tensorOf.set(l.name, inputName);
      continue;
    }
    if (l.inbound_nodes.length !== 1) throw fail(`is called ${l.inbound_nodes.length} times; shared layers are not exported`);
    const inputs = l.inbound_nodes[0].map(([from]) => {
      const t = tensorOf.get(from);
      if (t === undefined) throw fail(`reads '${from}', which comes later in the model`);
      return t;
    });
    const inShapes = l.inbound_nodes[0].map(([from]) => model.getLayer(from).outputShape as Shape);
    const weights = new Map(layer.weights.map((w, k) => [w.originalName.split('/').pop()!, layer.getWeights()[k]] as const));
    const weight = (key: string): tf.Tensor => {
      const w = weights.get(key);
      if (!w) throw fail(`has no '${key}' weight`);
      return w;
    };
    const c = l.config;
    const out = l.name;
    let y: string;
    const activation = (x: string, kind: unknown): string => {
      if (kind === undefined || kind === null || kind === 'linear') return x;
      if (kind === 'relu') return node('Relu', [x], fresh(`${out}_relu`));
      if (kind === 'sigmoid') return node('Sigmoid', [x], fresh(`${out}_sigmoid`));
      throw fail(`activation '${String(kind)}' is not exported`);
    };
    switch (l.class_name) {
      case 'Conv2D': {
        if (c.data_format !== 'channels_last') throw fail('only channels_last is exported');
        const [kh, kw] = c.kernel_size as [number, number];
        const strides = c.strides as number[];
        const dilations = c.dilation_rate as number[];
        // tfjs: [kh, kw, in, out]; ONNX: [out, in, kh, kw].
        const kernel = weight('kernel');
        const [, , kin, kout] = kernel.shape as [number, number, number, number];
        const W = floats(`${out}.weight`, [kout, kin, kh, kw], tf.tidy(() => tf.transpose(kernel, [3, 2, 0, 1]).dataSync() as Float32Array));
        const args = [inputs[0], W];
        if (c.use_bias) args.push(floats(`${out}.bias`, [kout], weight('bias').dataSync() as Float32Array));
        const pads = padsOf(c.padding as string, inShapes[0], [kh, kw], strides, dilations, fail);
        const conv = node('Conv', args, c.activation === 'linear' ? out : fresh(`${out}_conv`), [ints('kernel_shape', [kh, kw]), ints('strides', strides), ints('dilations', dilations), ints('pads', pads), int('group', 1)]);
        y = activation(conv, c.activation);
        break;
      }
      case 'Conv2DTranspose': {
        if (c.padding !== 'valid') throw fail(`padding '${String(c.padding)}' is not exported (valid only)`);
        const [kh, kw] = c.kernel_size as [number, number];
        const kernel = weight('kernel');
        // tfjs: [kh, kw, out, in]; ONNX: [in, out, kh, kw].
        const [, , kout, kin] = kernel.shape as [number, number, number, number];
        const W = floats(`${out}.weight`, [kin, kout, kh, kw], tf.tidy(() => tf.transpose(kernel, [3, 2, 0, 1]).dataSync() as Float32Array));
        const args = [inputs[0], W];
        if (c.use_bias) args.push(floats(`${out}.bias`, [kout], weight('bias').dataSync() as Float32Array));
        const conv = node('ConvTranspose', args, c.activation === 'linear' ? out : fresh(`${out}_convt`), [ints('kernel_shape', [kh, kw]), ints('strides', c.strides as number[])]);
        y = activation(conv, c.activation);
        break;
      }
      case 'MaxPooling2D': {
        const k = c.pool_size as number[];
        const strides = c.strides as number[];
        y = node('MaxPool', inputs, out, [ints('kernel_shape', k), ints('strides', strides), ints('pads', padsOf(c.padding as string, inShapes[0], k, strides, [1, 1], fail))]);
        break;
      }
      case 'BatchNormalization': {
        const axis = c.axis as number;
        if (axis !== -1 && axis !== 3) throw fail(`axis ${axis} is not exported (channels only)`);
        const channels = inShapes[0][3] as number;
        const ones = new Float32Array(channels).fill(1);
        const zeros = new Float32Array(channels);
        const gamma = c.scale ? (weight('gamma').dataSync() as Float32Array) : ones;
        const beta = c.center ? (weight('beta').dataSync() as Float32Array) : zeros;
        y = node('BatchNormalization', [
          inputs[0],
          floats(`${out}.scale`, [channels], gamma),
          floats(`${out}.bias`, [channels], beta),
          floats(`${out}.mean`, [channels], weight('moving_mean').dataSync() as Float32Array),
          floats(`${out}.var`, [channels], weight('moving_variance').dataSync() as Float32Array),
        ], out, [float('epsilon', c.epsilon as number)]);
        break;
      }
      case 'ReLU':
        if ((c.max_value ?? null) !== null) throw fail('a capped ReLU is not exported');
        y = node('Relu', inputs, out);
        break;
      case 'Activation':
        y = activation(inputs[0], c.activation);
        if (y === inputs[0]) y = node('Identity', inputs, out);
        break;
      case 'Add':
        y = inputs.length === 2 ? node('Add', inputs, out) : node('Sum', inputs, out);
        break;
      case 'Multiply':
        y = inputs.slice(1).reduce((acc, x, k) => node('Mul', [acc, x], k === inputs.length - 2 ? out : fresh(`${out}_mul`)), inputs[0]);
        break;
      case 'Concatenate': {
        const rank = inShapes[0].length;
        const axis = (c.axis as number) < 0 ? rank + (c.axis as number) : (c.axis as number);
        if (rank !== 4) throw fail('only 4-dimensional concatenation is exported');
        y = node('Concat', inputs, out, [int('axis', [0, 2, 3, 1][axis])]);
        break;
      }
      case 'GlobalAveragePooling2D':
        if (c.keepdims === true) throw fail('keepdims is not exported');
        y = node('Flatten', [node('GlobalAveragePool', inputs, fresh(`${out}_pool`))], out, [int('axis', 1)]);
        break;
      case 'Dense': {
        if (inShapes[0].length !== 2) throw fail('only a dense layer on a vector is exported');
        const kernel = weight('kernel');
        const W = floats(`${out}.weight`, kernel.shape as number[], kernel.dataSync() as Float32Array);
        const linear = c.activation === 'linear' ? out : fresh(`${out}_linear`);
        const z = c.use_bias ? node('Gemm', [inputs[0], W, floats(`${out}.bias`, [(kernel.shape as [number, number])[1]], weight('bias').dataSync() as Float32Array)], linear) : node('MatMul', [inputs[0], W], linear);
        y = activation(z, c.activation);
        break;
      }
      case 'Reshape': {
        const target = c.target_shape as number[];
        // NHWC [1, 1, C] from a vector is NCHW [C, 1, 1]: the squeeze-and-excitation and pooling branches' case.
        if (inShapes[0].length !== 2 || target.length !== 3 || target[0] !== 1 || target[1] !== 1) throw fail(`reshape to [${target.join(', ')}] is not exported (only a vector to 1 x 1 x C)`);
        y = node('Reshape', [inputs[0], int64s(`${out}.shape`, [0, target[2], 1, 1])], out);
        break;
      }
      case 'UpSampling2D': {
        const [sh, sw] = c.size as number[];
        const mode = c.interpolation === 'bilinear' ? 'linear' : c.interpolation === 'nearest' ? 'nearest' : undefined;
        if (!mode) throw fail(`interpolation '${String(c.interpolation)}' is not exported`);
        const attributes = [str('mode', mode), str('coordinate_transformation_mode', 'asymmetric')];
        if (mode === 'nearest') attributes.push(str('nearest_mode', 'floor'));
        y = node('Resize', [inputs[0], '', floats(`${out}.scales`, [4], new Float32Array([1, 1, sh, sw]))], out, attributes);
        break;
      }
      case 'Dropout':
      case 'SpatialDropout2D':
        y = node('Identity', inputs, out);
        break;
      default:
        throw fail('is not a layer sts export knows');
    }
    tensorOf.set(l.name, y);
  }

  if (!inputShape || inputShape.length !== 4) throw new StsError('the model has no 4-dimensional image input; sts export takes models written by sts train');
  const outputs = json.config.output_layers;
  if (outputs.length !== 1) throw new StsError(`the model has ${outputs.length} outputs; a segmentation network has one`);
  const last = tensorOf.get(outputs[0][0])!;
  const outShape = model.getLayer(outputs[0][0]).outputShape as Shape;
  node('Identity', [last], 'output', [], 'output');
  const [, s, , channels] = inputShape as number[];
  const graph = onnx.GraphProto.create({
    name: o.name ?? model.name,
    node: nodes,
    initializer: initializers,
    input: [valueInfo(inputName, [channels, s, s])],
    output: [valueInfo('output', [outShape[3] as number, outShape[1] as number, outShape[2] as number])],
  });
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'segment-then-segment',
    producerVersion: o.producerVersion ?? '',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: ONNX_OPSET })],
    graph,
    metadataProps: [onnx.StringStringEntryProto.create({ key: 'sts', value: JSON.stringify(o.sidecar) })],
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** ONNX pads [top, left, bottom, right] for TensorFlow's padding of a window over `shape` (NHWC). */
function padsOf(padding: string, shape: Shape, kernel: number[], strides: number[], dilations: number[], fail: (p: string) => Error): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding !== 'same') throw fail(`padding '${padding}' is not exported`);
  const pads = [1, 2].map((axis, k) => {
    const size = shape[axis];
    if (typeof size !== 'number') throw fail('same padding needs a fixed input size');
    const outSize = Math.ceil(size / strides[k]);
    const total = Math.max((outSize - 1) * strides[k] + (kernel[k] - 1) * dilations[k] + 1 - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  });
  return [pads[0][0], pads[1][0], pads[0][1], pads[1][1]];
}

function valueInfo(name: string, dims: number[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({ dim: [onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' }), ...dims.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d }))] }),
      }),
    }),
  });
}

const ints = (name: string, values: number[]) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
const int = (name: string, value: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
const float = (name: string, value: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value });
const str = (name: string, value: string) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) });
