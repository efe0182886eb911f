/**
 * Centre flows, the Cellpose idea in its simplest form: every object pixel points, as a unit vector, at its object's
 * centre (the object's pixel nearest its centroid, so that it lies inside the object). Where two nuclei touch, the
 * pixels on either side of their shared border point in opposite directions: a network that learns the flows is
 * told at every pixel which neighbour it belongs to, not only inside a thresholded core. Objects are the 4-connected
 * pieces of each label, so a label that an augmentation's mirrored border repeats gives two objects, as it shows two.
 * Cellpose diffuses heat from the centre instead of pointing straight at it, which matters for curved cells, not for
 * the convex nuclei this is tried on.
 */
import { ArgumentError } from '../errors.js';
import { type LabelMap, assertLabelMap } from '../geometry/label-map.js';

/** The flows of `map`: 2 values per pixel, interleaved (dy, dx), unit length on objects (0 at a centre), 0 outside. */
export function flowsOfLabels(map: LabelMap): Float32Array {
  assertLabelMap(map, 'labels');
  const { width, height, data: labels } = map;
  const n = width * height;
  const flows = new Float32Array(2 * n);
  const seen = new Uint8Array(n);
  const queue = new Int32Array(n);
  for (let start = 0; start < n; start++) {
    const l = labels[start];
    if (l === 0 || seen[start]) continue;
    // One object: the 4-connected pixels of this label reached from `start`.
    let tail = 0;
    queue[tail++] = start;
    seen[start] = 1;
    let sx = 0;
    let sy = 0;
    for (let head = 0; head < tail; head++) {
      const i = queue[head];
      const x = i % width;
      const y = (i - x) / width;
      sx += x;
      sy += y;
      if (x > 0 && !seen[i - 1] && labels[i - 1] === l) (seen[i - 1] = 1), (queue[tail++] = i - 1);
      if (x < width - 1 && !seen[i + 1] && labels[i + 1] === l) (seen[i + 1] = 1), (queue[tail++] = i + 1);
      if (y > 0 && !seen[i - width] && labels[i - width] === l) (seen[i - width] = 1), (queue[tail++] = i - width);
      if (y < height - 1 && !seen[i + width] && labels[i + width] === l) (seen[i + width] = 1), (queue[tail++] = i + width);
    }
    const mx = sx / tail;
    const my = sy / tail;
    let cx = 0;
    let cy = 0;
    let best = Infinity;
    for (let k = 0; k < tail; k++) {
      const i = queue[k];
      const x = i % width;
      const y = (i - x) / width;
      const d = (x - mx) ** 2 + (y - my) ** 2;
      if (d < best) (best = d), (cx = x), (cy = y);
    }
    for (let k = 0; k < tail; k++) {
      const i = queue[k];
      const x = i % width;
      const y = (i - x) / width;
      const length = Math.hypot(cy - y, cx - x);
      if (length === 0) continue;
      flows[2 * i] = (cy - y) / length;
      flows[2 * i + 1] = (cx - x) / length;
    }
  }
  return flows;
}

/** A flow component (-1..1) as a sigmoid output learns it (0..1), and back. */
export const flowToUnit = (v: number): number => (v + 1) / 2;
export const unitToFlow = (u: number): number => 2 * u - 1;

/** Checks a flow field's length against its image. */
export function assertFlows(flows: ArrayLike<number>, width: number, height: number): void {
  if (flows.length !== 2 * width * height) throw new ArgumentError('flows', `has ${flows.length} values, expected 2 x ${width} x ${height}`);
}
