/**
 * A segmentation network as the pipeline sees it: a batch of S x S inputs (H x W x C float32, values as the image
 * holds them) to one S x S foreground probability map per input. Every model source (a TensorFlow.js model, the
 * threshold stand-in, a catalog name) is a way to make one of these; Algorithm 1 never changes for a new one.
 */
import type { Raster } from '../geometry/raster.js';

export type SegmentationNetwork = (inputs: Raster<Float32Array>[]) => Promise<ArrayLike<number>[]>;

/**
 * The maps a network gives per pixel: 1 (the foreground probability, as above), or 2 (foreground and object core,
 * interleaved: S x S x 2), or 3 (foreground and centre flows dy, dx as 0..1), for instance segmentation
 * (src/instances/). A network says 2 or 3 with an `outputs` property.
 */
export type OutputKind = 1 | 2 | 3;

/** How many maps per pixel `network` gives (1 unless it says otherwise). */
export function outputsOf(network: SegmentationNetwork): OutputKind {
  const k = (network as { outputs?: OutputKind }).outputs;
  return k === 2 || k === 3 ? k : 1;
}

/** A network that holds memory outside JavaScript (a model's weights, a runtime session): `dispose()` frees it. */
export type DisposableNetwork = SegmentationNetwork & { readonly dispose: () => void };

/**
 * The largest input side S a network may take. Every input and map is S x S: at 4,096 one RGB float32 input is
 * 201 MB and a batch of 8 is 1.6 GB, already beyond what a crop-based method needs; beyond it a model's shape (or
 * a sidecar's "size") would make the first image fail with a bare "Invalid typed array length".
 */
export const MAX_NETWORK_SIZE = 4096;

/** Why a network of input side `size` cannot run here, or undefined when it can. */
export function networkSizeProblem(size: number): string | undefined {
  if (Number.isSafeInteger(size) && size > 0 && size <= MAX_NETWORK_SIZE) return undefined;
  const gb = (size * size * 3 * 4) / 1e9;
  return `S = ${size} is beyond the ${MAX_NETWORK_SIZE.toLocaleString('en-US')} this tool feeds (one ${size} x ${size} RGB input alone would take ${gb >= 1 ? `${gb.toFixed(0)} GB` : `${(gb * 1000).toFixed(0)} MB`})`;
}
