/** Public API of segment-then-segment. */
export { ArgumentError, StsError } from './errors.js';
export { seededRng, type Rng } from './random.js';
export * from './geometry/raster.js';
export * from './geometry/resize.js';
export * from './geometry/components.js';
export * from './geometry/boxes.js';
export * from './geometry/crop.js';
export * from './geometry/fusion.js';
export * from './geometry/proposals.js';
export * from './metrics/metrics.js';
export * from './pipeline/segment-then-segment.js';
