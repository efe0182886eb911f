/**
 * An ONNX Runtime session as the pipeline's `SegmentationNetwork`. Platform-free: onnxruntime-node and
 * onnxruntime-web share onnxruntime-common's API, so the caller passes its runtime's `Tensor` and a session made by
 * it, and Node and the page run one packing and unpacking (onnx-convention.ts).
 */
import { StsError } from '../../errors.js';
import type { Raster } from '../../geometry/raster.js';
import type { DisposableNetwork } from '../../types/network.js';
import { type OnnxConvention, packBatch, unpackMaps } from './onnx-convention.js';

/** What the network needs of onnxruntime-common's `InferenceSession` (node and web alike). */
export interface OnnxSessionLike<T> {
  run(feeds: Record<string, T>): Promise<Record<string, { readonly data: unknown; readonly dims: readonly number[] }>>;
  release(): Promise<void>;
}

/** onnxruntime-common's `Tensor` constructor, float32 only. */
export type OnnxTensorConstructor<T> = new (type: 'float32', data: Float32Array, dims: readonly number[]) => T;

export interface OnnxNetworkOptions {
  /** Inputs run through the session this many at a time. */
  readonly batchSize?: number;
  /** Names the model in errors (its file). */
  readonly where: string;
}

export function onnxNetwork<T>(Tensor: OnnxTensorConstructor<T>, session: OnnxSessionLike<T>, c: OnnxConvention, { batchSize = 32, where }: OnnxNetworkOptions): DisposableNetwork {
  const dims = (n: number) => (c.layout === 'NCHW' ? [n, c.channels, c.size, c.size] : [n, c.size, c.size, c.channels]);
  let released = false;
  const network = async (inputs: Raster<Float32Array>[]) => {
    if (released) throw new StsError(`${where}: the network was disposed of`);
    const maps: Float32Array[] = [];
    for (let start = 0; start < inputs.length; start += batchSize) {
      const chunk = inputs.slice(start, start + batchSize);
      const feeds = { [c.inputName]: new Tensor('float32', packBatch(chunk, c, where), dims(chunk.length)) };
      let result;
      try {
        result = await session.run(feeds);
      } catch (error) {
        throw new StsError(`${where}: ONNX Runtime could not run the model on a batch of ${chunk.length} (${(error as Error).message})`);
      }
      const data = result[c.outputName]?.data;
      if (!(data instanceof Float32Array) || data.length !== chunk.length * c.outputs * c.size * c.size) {
        const expected = `${chunk.length}${c.outputs === 2 ? ' x 2' : ''} x ${c.size} x ${c.size}`;
        throw new StsError(`${where}: output '${c.outputName}' gave ${data instanceof Float32Array ? data.length : typeof data} values for ${chunk.length} inputs; expected ${expected} float32`);
      }
      maps.push(...unpackMaps(data, chunk.length, c));
    }
    return maps;
  };
  const dispose = () => {
    if (released) return;
    released = true;
    void session.release();
  };
  return Object.assign(network, { dispose }, c.outputs === 2 ? { outputs: 2 as const } : {});
}
