/**
 * The platform-free core of segment-then-segment: what runs the same in Node and in a browser (the package's
 * `segment-then-segment/core` entry, and what a bundler gets under the `browser` condition). Geometry and metrics on
 * typed arrays, Algorithm 1 and the streaming pipeline for images of any size, the types they take (`ImageSource`,
 * `SegmentationNetwork`, `Progress`), the objects and their one export format, and the backend resolver. Nothing
 * here imports Node's modules (test/architecture checks it); files, volumes, datasets, training and the CLI are in
 * the Node entry (index.ts), which re-exports all of this.
 */
export { ArgumentError, DatasetError, StsError } from './errors.js';
export { deriveSeed, seededRng, shuffled, uniform, type Rng } from './random.js';
export * from './geometry/raster.js';
export * from './geometry/resize.js';
export * from './geometry/components.js';
export * from './geometry/label-map.js';
export * from './geometry/boxes.js';
export * from './geometry/crop.js';
export * from './geometry/fusion.js';
export * from './geometry/proposals.js';
export * from './geometry/polygons.js';
export * from './metrics/metrics.js';
export * from './metrics/instances.js';
export * from './types/image-source.js';
export type * from './types/network.js';
export type * from './types/progress.js';
export * from './types/training-scale.js';
export * from './objects/object-table.js';
export * from './io/raster-image-source.js';
export * from './io/overlay.js';
export * from './pipeline/segment-then-segment.js';
export * from './pipeline/streaming-sts.js';
export * from './pipeline/downscale-reader.js';
export * from './pipeline/fine-results.js';
export { type MapBytes, type PackedBytes, bytesOf, packBytes } from './pipeline/packed-maps.js';
export * from './pipeline/model-network.js';
export * from './engine/onnx/onnx-convention.js';
export * from './engine/onnx/onnx-network.js';
export * from './engine/onnx/onnx-metadata.js';
export * from './engine/onnx/onnx-model.js';
export * from './catalog/pair-check.js';
export { startFirstBackend, describeSkipped, type BackendCandidate, type StartedBackend } from './engine/start-backend.js';
export * from './objects/objects-of-mask.js';
