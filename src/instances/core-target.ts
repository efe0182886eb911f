/**
 * The core of each object of a label map: the pixels whose distance to the object's own border is more than half
 * the object's largest such distance (or more than another share of it: `depth`). Distances are city-block (4-connected BFS) from the object's border pixels,
 * where a border pixel is one with a 4-neighbour of another label (background or another object) or on the image
 * edge. Two touching objects therefore have cores at least two pixels apart (each gives up its border ring and
 * more), and every object has a non-empty core; an object at most two pixels thick keeps all of itself, as nothing
 * smaller could be told apart anyway.
 */
import { ArgumentError } from '../errors.js';
import { type LabelMap, assertLabelMap } from '../geometry/label-map.js';

/**
 * The share of an object's largest depth that its core pixels exceed. Half keeps touching objects' cores two pixels
 * apart at least; a larger share leaves wider gaps for the network to learn, and smaller cores to seed from.
 */
export const DEFAULT_CORE_DEPTH = 0.5;

/** 0/1 core mask of the label map `map` (0 = background); `depth` in [0, 1), see `DEFAULT_CORE_DEPTH`. */
export function coreOfLabels(map: LabelMap, depth = DEFAULT_CORE_DEPTH): Uint8Array {
  assertLabelMap(map, 'labels');
  if (!(depth >= 0 && depth < 1)) throw new ArgumentError('core depth', `must be at least 0 and below 1 (a share of each object's largest depth), got ${depth}`);
  const { width, height, data: labels } = map;
  const n = width * height;
  const distance = new Int32Array(n);
  const queue = new Int32Array(n);
  let tail = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const l = labels[i];
      if (l === 0) continue;
      const border =
        x === 0 || y === 0 || x === width - 1 || y === height - 1 || labels[i - 1] !== l || labels[i + 1] !== l || labels[i - width] !== l || labels[i + width] !== l;
      if (border) {
        distance[i] = 1;
        queue[tail++] = i;
      }
    }
  }
  for (let head = 0; head < tail; head++) {
    const i = queue[head];
    const l = labels[i];
    const d = distance[i] + 1;
    // Only border pixels touch the image edge, and they never grow past it: every neighbour of a pixel reached
    // here either has another label or lies inside the image.
    if (distance[i - 1] === 0 && labels[i - 1] === l) (distance[i - 1] = d), (queue[tail++] = i - 1);
    if (distance[i + 1] === 0 && labels[i + 1] === l) (distance[i + 1] = d), (queue[tail++] = i + 1);
    if (distance[i - width] === 0 && labels[i - width] === l) (distance[i - width] = d), (queue[tail++] = i - width);
    if (distance[i + width] === 0 && labels[i + width] === l) (distance[i + width] = d), (queue[tail++] = i + width);
  }
  const largest = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (l !== 0 && distance[i] > (largest.get(l) ?? 0)) largest.set(l, distance[i]);
  }
  const core = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (l === 0) continue;
    const top = largest.get(l)!;
    core[i] = top <= 1 || distance[i] > top * depth ? 1 : 0;
  }
  return core;
}
