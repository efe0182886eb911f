/**
 * Convolution helpers shared by the Conv2D family. Tensors are NHWC in tfjs; they reach ATen as NCHW views with
 * channels-last strides (no copy), the layout oneDNN's fast path takes. tfjs's asymmetric 'same' padding (ATen
 * pads symmetrically) is done by padding the input explicitly.
 */
import type { backend_util } from '@tensorflow/tfjs-core';
import { aten } from '../aten.js';
import { constantPad, empty, narrow, nchw, permute, reshape, type NativeTensor } from '../kernel_util.js';

type ConvInfo = backend_util.Conv2DInfo;
const convolution = aten('convolution');
const convolutionBackward = aten('convolution_backward');
const mkldnnConvolution = aten('mkldnn_convolution');
const CHANNELS_LAST = 2; // c10::MemoryFormat::ChannelsLast
const FLOAT32 = 6;

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

/** Forward convolution of an NCHW view; returns NCHW (channels-last strides when the input had them). */
export function conv2dNCHW(x: NativeTensor, w: NativeTensor, bias: NativeTensor | null, info: ConvInfo, groups: number): NativeTensor {
  const { top, bottom, left, right } = info.padInfo;
  let pad = [top, left];
  if (asymmetric(info)) {
    x = constantPad(x, [left, right, top, bottom], 0);
    pad = [0, 0];
  }
  const stride = [info.strideHeight, info.strideWidth];
  const dilation = [info.dilationHeight, info.dilationWidth];
  // ATen 1.13 (ConvParams::use_mkldnn) sends a batch of one with a kernel of at most 3 x 3 and an input of at most
  // 20,480 values to its reference loops, 5-40x slower than oneDNN here: the deep layers of every single-image
  // inference. Calling oneDNN directly takes the fast path whatever the batch.
  if (info.batchSize === 1) return mkldnnConvolution(x, w, bias, pad, stride, dilation, groups) as NativeTensor;
  return convolution(x, w, bias, stride, pad, dilation, false, [0, 0], groups) as NativeTensor;
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
