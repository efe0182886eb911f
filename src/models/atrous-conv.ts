/**
 * tfjs-layers' Conv2D with a gradient for dilated (atrous) convolutions. TensorFlow.js computes a dilated
 * convolution forward, but its gradients of conv2D and of the fused conv2D refuse any dilation above 1, so the two
 * architectures with atrous layers (ResUNet++'s ASPP, DeepLabv3+'s dilated stage and ASPP) could be built and run
 * but not trained. In training, a dilated 'same'-padded convolution with stride 1 runs here as a custom op: forward the
 * ordinary dilated conv2D, backward the two dilated-convolution identities below. Everything else (dilation 1, other
 * paddings or strides, inference) runs the base class unchanged. Like FusedBatchNormalization it keeps the base
 * class's name, so saved models stay plain tfjs models, and it is registered under that name so that a model loaded
 * here (a resumed or fine-tuned run) trains too.
 */
import * as tfc from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Conv2D } from '@tensorflow/tfjs-layers/dist/layers/convolutional.js';

type Kwargs = Parameters<Conv2D['call']>[1];

/** The base class's state this subclass reads. */
interface Internals {
  readonly kernelSize: number[];
  readonly strides: number[];
  readonly dilationRate: number | number[];
  readonly padding: string;
  readonly dataFormat: string;
  readonly useBias: boolean;
  readonly kernel: tfl.LayerVariable;
  readonly bias: tfl.LayerVariable | null;
  readonly activation?: { apply(x: tfc.Tensor): tfc.Tensor; getClassName(): string };
}

const Base = tfl.layers.conv2d({ filters: 1, kernelSize: 1 }).constructor as typeof Conv2D;

/**
 * A 'same'-padded, stride-1 convolution of NHWC `x` with kernel `w` ([kh, kw, in, out], both sides odd) at dilation
 * `d`, with a gradient. For such a convolution the padding is symmetric, (k - 1) d / 2 on each side, so
 *  - the input's gradient is the same convolution of dy with the kernel flipped in space and with in / out swapped;
 *  - the kernel's gradient at tap (i, j) is x shifted by (i d, j d) (zero-padded) against dy, summed over batch and
 *    pixels: one [in x out] matrix product per tap.
 */
export function atrousConv2d(x: tfc.Tensor4D, w: tfc.Tensor4D, d: [number, number]): tfc.Tensor4D {
  const [kh, kw] = w.shape;
  if (kh % 2 === 0 || kw % 2 === 0) throw new Error(`atrousConv2d: odd kernel sides only, got ${kh} x ${kw}`);
  // customGrad's callback takes the inputs and then the save function as one variadic list.
  const op = tfc.customGrad(((input: tfc.Tensor, kernel: tfc.Tensor, save: tfc.GradSaveFunc) => {
    const [x4, w4] = [input as tfc.Tensor4D, kernel as tfc.Tensor4D];
    save([x4, w4]);
    return {
      value: tfc.conv2d(x4, w4, 1, 'same', 'NHWC', d),
      gradFunc: (dy: tfc.Tensor | tfc.Tensor[], saved: tfc.Tensor[]) => {
        const g = (Array.isArray(dy) ? dy[0] : dy) as tfc.Tensor4D;
        const [xs, ws] = saved as [tfc.Tensor4D, tfc.Tensor4D];
        const flipped = tfc.transpose(tfc.reverse(ws, [0, 1]), [0, 1, 3, 2]) as tfc.Tensor4D;
        const dx = tfc.conv2d(g, flipped, 1, 'same', 'NHWC', d);
        const [n, h, wd, cin] = xs.shape;
        const cout = ws.shape[3];
        const [ph, pw] = [((kh - 1) * d[0]) / 2, ((kw - 1) * d[1]) / 2];
        const padded = tfc.pad(xs, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
        const dyRows = tfc.reshape(g, [n * h * wd, cout]);
        const taps: tfc.Tensor[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const shifted = tfc.reshape(tfc.slice(padded, [0, i * d[0], j * d[1], 0], [n, h, wd, cin]), [n * h * wd, cin]);
            taps.push(tfc.matMul(shifted, dyRows, true, false));
          }
        }
        const dw = tfc.reshape(tfc.stack(taps), [kh, kw, cin, cout]);
        return [dx, dw];
      },
    };
  }) as unknown as Parameters<typeof tfc.customGrad>[0]);
  return op(x, w) as tfc.Tensor4D;
}

export class AtrousConv2D extends Base {
  override call(inputs: tfc.Tensor | tfc.Tensor[], kwargs: Kwargs): tfc.Tensor | tfc.Tensor[] {
    const self = this as unknown as Internals;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const d = typeof self.dilationRate === 'number' ? [self.dilationRate, self.dilationRate] : self.dilationRate;
    const plain = d.every((v) => v === 1) || self.padding !== 'same' || self.strides.some((s) => s !== 1) ||
      self.dataFormat !== 'channelsLast' || x.rank !== 4 || self.kernelSize.some((k) => k % 2 === 0);
    if (!kwargs?.training || plain) return super.call(inputs, kwargs);
    return tfc.tidy(() => {
      let y: tfc.Tensor = atrousConv2d(x as tfc.Tensor4D, self.kernel.read() as tfc.Tensor4D, [d[0], d[1]]);
      if (self.useBias && self.bias) y = tfc.add(y, self.bias.read());
      if (self.activation && self.activation.getClassName() !== 'linear') y = self.activation.apply(y);
      return y;
    });
  }
}

tfc.serialization.registerClass(AtrousConv2D);
