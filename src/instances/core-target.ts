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

/**
 * What the core channel of an instance network learns: `binary`, the 0/1 core (the shipped pairs); or `depth`, each
 * object pixel's depth in its object as a share of the object's largest (1 at its deepest pixel, 1 / largest at its
 * border, 0 outside), whose 0.5 level is the binary core. A network that learns the depth says how deep every pixel
 * is, not only whether it is core: two touching nuclei whose cores it bridges at 0.5 can still be parted at a higher
 * level (seed-levels.ts), which a saturated 0/1 core cannot tell.
 */
export type CoreTarget = 'binary' | 'depth';
export const CORE_TARGETS: readonly CoreTarget[] = ['binary', 'depth'];

/** The core channel's training target for `map`: the 0/1 core (at `coreDepth`) or the quantised depth. */
export function coreTargetOfLabels(map: LabelMap, { coreTarget = 'binary', coreDepth }: { coreTarget?: CoreTarget; coreDepth?: number } = {}): Uint8Array {
  if (!CORE_TARGETS.includes(coreTarget)) throw new ArgumentError('--core-target', `must be one of ${CORE_TARGETS.join(', ')}, got '${String(coreTarget)}'`);
  return coreTarget === 'depth' ? depthOfLabels(map) : coreOfLabels(map, coreDepth);
}

/** 0/1 core mask of the label map `map` (0 = background); `depth` in [0, 1), see `DEFAULT_CORE_DEPTH`. */
export function coreOfLabels(map: LabelMap, depth = DEFAULT_CORE_DEPTH): Uint8Array {
  if (!(depth >= 0 && depth < 1)) throw new ArgumentError('core depth', `must be at least 0 and below 1 (a share of each object's largest depth), got ${depth}`);
  const { distance, largest } = depthsOfLabels(map);
  const labels = map.data;
  const core = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === 0) continue;
    const top = largest.get(l)!;
    core[i] = top <= 1 || distance[i] > top * depth ? 1 : 0;
  }
  return core;
}

/**
 * Each object pixel's depth as a share of its object's largest, quantised to 1..255 (0 outside objects): the `depth`
 * core target. Its values above 127.5 are exactly the binary core (`coreOfLabels` at the default depth): a pixel at
 * exactly half the largest depth gets 127, and an object one pixel thick is all 255.
 */
export function depthOfLabels(map: LabelMap): Uint8Array {
  const { distance, largest } = depthsOfLabels(map);
  const labels = map.data;
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === 0) continue;
    const top = largest.get(l)!;
    out[i] = top <= 1 ? 255 : 2 * distance[i] === top ? 127 : Math.max(1, Math.round((255 * distance[i]) / top));
  }
  return out;
}

/** City-block depth of every object pixel (1 on its border) and each label's largest depth. */
function depthsOfLabels(map: LabelMap): { distance: Int32Array; largest: Map<number, number> } {
  assertLabelMap(map, 'labels');
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
  return { distance, largest };
}
