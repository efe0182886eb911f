/**
 * Convolution helpers shared by the Conv2D family. Tensors are NHWC in tfjs; they reach ATen as NCHW views with
 * channels-last strides (no copy), the layout oneDNN's fast path takes. tfjs's asymmetric 'same' padding (ATen
 * pads symmetrically) is done by padding the input explicitly.
 */
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { aten, aten1, keep, toDtype } from '../aten.js';
import type { TorchBackend } from '../torch-backend.js';
import { loadNative } from '../native.js';
import { inferencePrecision } from '../inference-precision.js';
import { constantPad, contiguous, empty, narrow, nchw, permute, reshape, type NativeTensor } from '../kernel-util.js';

type ConvInfo = backend_util.Conv2DInfo;
const convolution = aten('convolution');
const convolutionBackward = aten('convolution_backward');
const mm = aten1('mm');
const mkldnnConvolution = aten('mkldnn_convolution');
const toMkldnn = aten('to_mkldnn');
const reorderConv2dWeight = aten('mkldnn_reorder_conv2d_weight');
const CHANNELS_LAST = 2; // c10::MemoryFormat::ChannelsLast
const FLOAT32 = 6;
const bfloat16Code = () => loadNative()!.dtypes.bfloat16;

const asymmetric = (info: ConvInfo) =>
  info.padInfo.top !== info.padInfo.bottom || info.padInfo.left !== info.padInfo.right;

/** Input as an NCHW view. */
export function inputNCHW(h: NativeTensor, info: ConvInfo): NativeTensor {
  return info.dataFormat === 'channelsLast' ? nchw(h) : h;
}

/** An NCHW result in the layout tfjs asked for. */
export function outputLayout(h: NativeTensor, info: ConvInfo): NativeTensor {
  return info.dataFormat === 'channelsLast' ? permute(h, [0, 2, 3, 1]) : h;
}

/** tfjs filter [kh, kw, in, out] as ATen weight [out, in, kh, kw]; depthwise [kh, kw, C, M] as [C*M, 1, kh, kw]. */
export function weightOIHW(f: NativeTensor, info: ConvInfo, depthwise: boolean): NativeTensor {
  if (!depthwise) return permute(f, [3, 2, 0, 1]);
  const [kh, kw, c, m] = [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels / info.inChannels];
  return permute(reshape(f, [kh, kw, 1, c * m]), [3, 2, 0, 1]);
}

/** ATen weight gradient back to tfjs's filter layout. */
export function filterFromOIHW(g: NativeTensor, info: ConvInfo, depthwise: boolean): NativeTensor {
  const f = permute(g, [2, 3, 1, 0]);
  if (!depthwise) return f;
  return reshape(f, [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels / info.inChannels]);
}

/** Where the forward convolution pads (the input is padded explicitly when tfjs's padding is asymmetric). */
function forwardPadding(info: ConvInfo): number[] {
  return asymmetric(info) ? [0, 0] : [info.padInfo.top, info.padInfo.left];
}

/** A filter as the forward convolution takes it: ATen OIHW or oneDNN's packed layout (see below), float32 or bfloat16. */
export interface ConvWeight {
  readonly w: NativeTensor;
  readonly packed: boolean;
  readonly bfloat16: boolean;
}

/**
 * Whether a packed filter beats a plain one for this call. oneDNN's packed (blocked) filter suits its blocked
 * kernels; with our channels-last inputs it wins only on small outputs, where reordering a plain filter on every call
 * is most of the work, and loses up to 3x on large ones. Measured with ATen 1.13 on 2 cores, 3 x 3 filters (plain /
 * packed ms): 512 -> 512 at 4 x 4, batch 16: 10.7 / 5.6; 256 -> 256 at 8 x 8, batch 16: 6.3 / 5.8; 128 -> 128 at
 * 16 x 16: batch 1 0.67 / 0.43 but batch 16 6.2 / 6.7; 64 -> 64 at 32 x 32, batch 1: 0.43 / 0.86; 32 -> 32 at
 * 64 x 64, batch 16: 7.1 / 23.5. bfloat16 filters follow the same pattern (512 -> 512 at 4 x 4, batch 1: 5.6 / 0.7 ms;
 * 32 -> 32 at 64 x 64, batch 16: 8.7 / 15.3 ms, one thread).
 */
function packingPays(info: ConvInfo, groups: number): boolean {
  if (groups !== 1) return true; // depthwise and grouped filters: not measured, keep packing
  const pixels = info.outHeight * info.outWidth;
  return pixels <= 64 || info.batchSize * pixels <= 256;
}

/**
 * A filter's inference form (packed, cast to bfloat16, or rearranged), made once the filter is seen a second time
 * unchanged (inference: the same weights image after image) and kept with the tensor. Returns undefined on a
 * filter's first use (training never pays: each step's weights are new tensors, used once) and when the filter
 * already keeps another form (rare: a last, smaller batch), which the caller then makes for this call only.
 * Uses are counted per `kind`: one training step runs a transposed convolution (`block`) forward and a
 * convolution (`conv`) with the same filter backward, and both are first uses.
 */
function keptFilter(backend: TorchBackend, filter: TensorInfo, kind: 'conv' | 'block', form: Omit<ConvWeight, 'w'> & { key: string }, make: () => NativeTensor): ConvWeight | undefined {
  const d = backend.dataOf(filter.dataId);
  const ready = d.inferenceFilter;
  if (ready?.key === form.key) return ready;
  const uses = (d.filterUses ??= { conv: 0, block: 0 });
  uses[kind]++;
  if (uses[kind] < 2 || ready !== undefined) return undefined;
  d.inferenceFilter = { ...form, w: keep(make()) };
  return d.inferenceFilter;
}

const castFor = (bfloat16: boolean, w: NativeTensor) => (bfloat16 ? toDtype(contiguous(w), bfloat16Code()) : contiguous(w));

/**
 * The filter for a forward convolution. oneDNN reorders a plain filter into its blocked layout on every call, which
 * costs more than the convolution itself for the small inputs of this method (a 2 x 2 x 512 layer: 7.9 ms with
 * the reorder, 0.16 ms without), so a reused filter is kept packed where that pays (`packingPays`), and cast to
 * bfloat16 when the inference precision says so (`keptFilter`).
 */
export function convolutionWeight(backend: TorchBackend, filter: TensorInfo, info: ConvInfo, groups: number, depthwise: boolean): ConvWeight {
  const plain = () => weightOIHW(backend.tensor(filter), info, depthwise);
  const first = { packed: false, bfloat16: false };
  if (filter.dtype !== 'float32') return { w: plain(), ...first };
  const bfloat16 = inferencePrecision() === 'bfloat16';
  const packed = packingPays(info, groups);
  if (!bfloat16 && !packed) return { w: plain(), ...first };
  const stride = [info.strideHeight, info.strideWidth];
  const dilation = [info.dilationHeight, info.dilationWidth];
  const padding = forwardPadding(info);
  const key = `conv|${bfloat16 ? 'bf16' : 'f32'}|${packed}|${filter.shape.join('x')}|${padding}|${stride}|${dilation}|${groups}`;
  const d = backend.dataOf(filter.dataId);
  const hadForm = d.inferenceFilter !== undefined;
  // A kept filter needs no plain view: on the inference path that is one native call less per convolution.
  const kept = keptFilter(backend, filter, 'conv', { key, packed, bfloat16 }, () => packed
    ? reorderConv2dWeight(toMkldnn(castFor(bfloat16, plain()), null), padding, stride, dilation, groups) as NativeTensor
    : castFor(bfloat16, plain()));
  if (kept !== undefined) return kept;
  // Another form is kept: this call (a last, smaller batch) gets a plain filter, cast when needed.
  if (hadForm && bfloat16) return { w: castFor(true, plain()), packed: false, bfloat16 };
  return { w: plain(), ...first };
}

/**
 * Forward convolution of an NCHW view; returns NCHW (channels-last strides when the input had them). With a
 * bfloat16 filter the input (when float32) and bias are cast to bfloat16 and the result is bfloat16: the kernel
 * stores it as a bfloat16 activation (`TorchBackend.output`), so the next convolution needs no cast.
 */
export function conv2dNCHW(x: NativeTensor, weight: NativeTensor | ConvWeight, bias: NativeTensor | null, info: ConvInfo, groups: number): NativeTensor {
  const { top, bottom, left, right } = info.padInfo;
  const { w, packed, bfloat16 } = 'packed' in weight ? weight : { w: weight, packed: false, bfloat16: false };
  if (bfloat16) {
    const bf16 = bfloat16Code();
    x = toDtype(x, bf16);
    if (bias !== null) bias = toDtype(bias, bf16);
  }
  if (asymmetric(info)) x = constantPad(x, [left, right, top, bottom], 0);
  const pad = forwardPadding(info);
  const stride = [info.strideHeight, info.strideWidth];
  const dilation = [info.dilationHeight, info.dilationWidth];
  // ATen 1.13 (ConvParams::use_mkldnn) sends a batch of one with a kernel of at most 3 x 3 and an input of at most
  // 20,480 values to its reference loops, 5-40x slower than oneDNN here: the deep layers of every single-image
  // inference. Calling oneDNN directly takes the fast path whatever the batch; a packed filter only oneDNN reads.
  return packed || info.batchSize === 1
    ? mkldnnConvolution(x, w, bias, pad, stride, dilation, groups) as NativeTensor
    : convolution(x, w, bias, stride, pad, dilation, false, [0, 0], groups) as NativeTensor;
}

/** Whether a transposed convolution's output blocks do not overlap: kernel = stride, no padding, no dilation. */
export function isBlockTransposed(info: ConvInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return info.filterHeight === info.strideHeight && info.filterWidth === info.strideWidth &&
    top === 0 && bottom === 0 && left === 0 && right === 0 && info.dilationHeight === 1 && info.dilationWidth === 1 &&
    info.inHeight === info.outHeight * info.strideHeight && info.inWidth === info.outWidth * info.strideWidth &&
    info.dataFormat === 'channelsLast';
}

/**
 * A bfloat16 inference transposed convolution of the U-Net's upsampling kind (`isBlockTransposed`: each input pixel
 * makes its own kh x kw block of output), or null when the filter is not kept in bfloat16 (float32 precision, or
 * its first use), which ATen's transposed convolution then computes. ATen 1.13 has no bfloat16 transposed
 * convolution for channels-last input, so this one is a matrix product, [N*h*w, C] x [C, kh*kw*O], and a
 * rearrangement of the blocks. (In float32 the product was no faster than ATen's: 9.1 vs 8.8 ms for the four of the
 * reference U-Net at 64 x 64, batch 16.) The result is bfloat16, as after a convolution.
 * dy: NHWC [N, h, w, C]; filter: tfjs [kh, kw, O, C]. Returns NHWC [N, h*kh, w*kw, O].
 */
export function blockTransposedConvBfloat16(backend: TorchBackend, dy: TensorInfo, filter: TensorInfo): NativeTensor | null {
  if (inferencePrecision() !== 'bfloat16') return null;
  const [kh, kw, o, c] = filter.shape;
  const kept = keptFilter(backend, filter, 'block', { key: `block|bf16|${filter.shape.join('x')}`, packed: false, bfloat16: true },
    () => reshape(castFor(true, permute(backend.tensor(filter), [3, 0, 1, 2])), [c, kh * kw * o]));
  if (kept === undefined) return null;
  const [n, h, w] = dy.shape;
  const x = toDtype(backend.storedTensor(dy), bfloat16Code());
  const blocks = reshape(mm(reshape(x, [n * h * w, c]), kept.w), [n, h, w, kh, kw, o]);
  return reshape(permute(blocks, [0, 1, 3, 2, 4, 5]), [n, h * kh, w * kw, o]);
}

/** Gradient of the convolution with respect to its input (NCHW), given dy (NCHW) and the weight. */
export function conv2dGradInput(dy: NativeTensor, w: NativeTensor, info: ConvInfo, groups: number): NativeTensor {
  const { top, bottom, left, right } = info.padInfo;
  const asym = asymmetric(info);
  const H = info.inHeight;
  const W = info.inWidth;
  const shape = [info.batchSize, info.inChannels, asym ? H + top + bottom : H, asym ? W + left + right : W];
  const placeholder = empty(shape, FLOAT32, null, null, null, CHANNELS_LAST); // only its shape is read
  const r = convolutionBackward(dy, placeholder, w, null, [info.strideHeight, info.strideWidth],
    asym ? [0, 0] : [top, left], [info.dilationHeight, info.dilationWidth], false, [0, 0], groups,
    [true, false, false]) as NativeTensor[];
  let g = r[0];
  if (asym) g = narrow(narrow(g, 2, top, H), 3, left, W);
  return g;
}

/** Gradient of the convolution with respect to its weight (OIHW), given x and dy (NCHW). */
export function conv2dGradWeight(x: NativeTensor, dy: NativeTensor, wShapeOIHW: number[], info: ConvInfo, groups: number): NativeTensor {
  const { top, bottom, left, right } = info.padInfo;
  const asym = asymmetric(info);
  if (asym) x = constantPad(x, [left, right, top, bottom], 0);
  const placeholder = empty(wShapeOIHW, FLOAT32, null, null, null, null); // only its shape is read
  const r = convolutionBackward(dy, x, placeholder, null, [info.strideHeight, info.strideWidth],
    asym ? [0, 0] : [top, left], [info.dilationHeight, info.dilationWidth], false, [0, 0], groups,
    [false, true, false]) as NativeTensor[];
  return r[1];
}

export function oihwShape(info: ConvInfo, depthwise: boolean): number[] {
  return depthwise
    ? [info.outChannels, 1, info.filterHeight, info.filterWidth]
    : [info.outChannels, info.inChannels, info.filterHeight, info.filterWidth];
}
