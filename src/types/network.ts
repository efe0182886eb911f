/**
 * A segmentation network as the pipeline sees it: a batch of S x S inputs (H x W x C float32, values as the image
 * holds them) to one S x S foreground probability map per input. Every model source (a TensorFlow.js model, the
 * threshold stand-in, a catalog name) is a way to make one of these; Algorithm 1 never changes for a new one.
 */
import type { Raster } from '../geometry/raster.js';

export type SegmentationNetwork = (inputs: Raster<Float32Array>[]) => Promise<ArrayLike<number>[]>;

/**
 * The maps a network gives per pixel: 1 (the foreground probability, as above), or 2 (foreground and object core,
 * interleaved: S x S x 2), for instance segmentation (src/instances/). A network says 2 with an `outputs` property.
 */
export type OutputKind = 1 | 2;

/** How many maps per pixel `network` gives (1 unless it says otherwise). */
export function outputsOf(network: SegmentationNetwork): OutputKind {
  return (network as { outputs?: OutputKind }).outputs === 2 ? 2 : 1;
}

/** A network that holds memory outside JavaScript (a model's weights, a runtime session): `dispose()` frees it. */
export type DisposableNetwork = SegmentationNetwork & { readonly dispose: () => void };
