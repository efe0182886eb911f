/**
 * Objects from a foreground mask and centre flows (flow-target.ts), as Cellpose decodes its flows: every foreground
 * pixel follows the flows through the foreground, step by step, and ends near its object's centre; the places where
 * many pixels end are the objects' centres, and each pixel belongs to the centre it reached. Two touching nuclei
 * whose flows point apart at their shared border end at two centres, however thin or wide that border is.
 */
import { connectedComponents, labelImage } from '../geometry/components.js';
import type { LabelMap } from '../geometry/label-map.js';
import { ArgumentError } from '../errors.js';
import { DEFAULT_MIN_SIZE, completeObjects, floodByDistance } from './split-by-cores.js';
import { assertFlows, flowsOfLabels } from './flow-target.js';

export interface FlowDecodeOptions {
  /** Steps that every pixel follows, each as long as the flow where it stands (at most a pixel). Default 160. */
  readonly steps?: number;
  /**
   * Each step one pixel long in the flow's direction, whatever its length (a network's flows are shorter than the
   * unit vectors it learned, most where it is unsure), instead of as long as the flow. Flows under 0.05 stop a pixel.
   */
  readonly unitSteps?: boolean;
  /** A centre needs this many pixels ending within a pixel of it. Default 32. */
  readonly minCount?: number;
  /** Centres closer than this (pixels, Chebyshev) are one: the stronger is kept. Default 5. */
  readonly radius?: number;
  /** Objects with fewer pixels are dropped. Default 15 (Cellpose's min_size); 0 keeps all. */
  readonly minSize?: number;
  /** Follow the flows interpolated bilinearly between pixels (Cellpose) instead of the flow of the nearest pixel. */
  readonly bilinear?: boolean;
  /**
   * Objects whose own centre flows (remade from their mask, flow-target.ts) differ from the network's directions by
   * more than this mean squared error are dropped, as Cellpose drops masks over its flow_threshold: a blob the flows
   * do not hold together is seldom one object. Default 0.4 (Cellpose's flow_threshold); Infinity drops none.
   */
  readonly maxFlowError?: number;
}

/**
 * The decoding's defaults, the best AP@0.5 of 62 decodings of the trained flow network on the nuclei pair's
 * validation images (docs/results/nuclei-instances/README.md, "Centre flows"). Recorded with a flow pair's results,
 * so that one decoded otherwise is made again. `minCount` is in pixels of the image, like the smallest object.
 */
export const FLOW_DECODE = { steps: 160, minCount: 32, radius: 5, unitSteps: false, bilinear: false, maxFlowError: 0.4 } as const;

/**
 * The objects of `foreground` (0/1, `width` x `height`) by following `flows` (dy, dx interleaved, in pixels of this
 * image, direction only), as a label map 1..count. Foreground whose pixels reach no centre is given to the nearest
 * object through the foreground, or, if none, becomes one object per component.
 */
export function labelsByFlows(foreground: Uint8Array, flows: ArrayLike<number>, width: number, height: number, o: FlowDecodeOptions = {}): LabelMap<Int32Array> & { readonly count: number } {
  const n = width * height;
  if (foreground.length !== n) throw new ArgumentError('foreground', `must hold ${width} x ${height} pixels, got ${foreground.length}`);
  assertFlows(flows, width, height);
  const steps = o.steps ?? FLOW_DECODE.steps;
  const minCount = o.minCount ?? FLOW_DECODE.minCount;
  const radius = o.radius ?? FLOW_DECODE.radius;
  const unitSteps = o.unitSteps ?? FLOW_DECODE.unitSteps;
  // Where each pixel ends: followed with the flow of the pixel it is on, stopping at the foreground's edge.
  const end = new Int32Array(n).fill(-1);
  const hits = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!foreground[i]) continue;
    let x = i % width;
    let y = (i - x) / width;
    for (let s = 0; s < steps; s++) {
      let fy: number;
      let fx: number;
      if (o.bilinear ?? FLOW_DECODE.bilinear) [fy, fx] = bilinearFlow(flows, width, height, y, x);
      else {
        const j = Math.round(y) * width + Math.round(x);
        fy = flows[2 * j];
        fx = flows[2 * j + 1];
      }
      if (unitSteps) {
        const length = Math.hypot(fy, fx);
        if (length < 0.05) break;
        fy /= length;
        fx /= length;
      }
      const ny = y + fy;
      const nx = x + fx;
      const ry = Math.round(ny);
      const rx = Math.round(nx);
      if (ry < 0 || ry >= height || rx < 0 || rx >= width || !foreground[ry * width + rx]) break;
      y = ny;
      x = nx;
    }
    end[i] = Math.round(y) * width + Math.round(x);
    hits[end[i]]++;
  }
  // Endings within a pixel, counted together: pixels circle a centre rather than stop on it.
  const near = new Int32Array(n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy >= 0 && yy < height && xx >= 0 && xx < width) sum += hits[yy * width + xx];
      }
      near[y * width + x] = sum;
    }
  }
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (near[i] >= minCount && hits[i] > 0) candidates.push(i);
  candidates.sort((a, b) => near[b] - near[a] || a - b);
  // Each centre owns the pixels within `radius` of it in its foreground component; the stronger centre first.
  const component = labelImage(connectedComponents({ width, height, channels: 1, data: foreground }));
  const owner = new Int32Array(n);
  let count = 0;
  for (const c of candidates) {
    if (owner[c] !== 0) continue;
    const l = ++count;
    const cx = c % width;
    const cy = (c - cx) / width;
    for (let yy = Math.max(0, cy - radius); yy <= Math.min(height - 1, cy + radius); yy++) {
      for (let xx = Math.max(0, cx - radius); xx <= Math.min(width - 1, cx + radius); xx++) {
        const j = yy * width + xx;
        if (owner[j] === 0 && component[j] === component[c]) owner[j] = l;
      }
    }
  }
  const labels = new Int32Array(n);
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    if (end[i] >= 0 && owner[end[i]] > 0) {
      labels[i] = owner[end[i]];
      queue[tail++] = i;
    }
  }
  floodByDistance(foreground, labels, queue, tail, width, height);
  const objects = completeObjects(foreground, labels, count, width, height, o.minSize ?? DEFAULT_MIN_SIZE);
  const maxFlowError = o.maxFlowError ?? FLOW_DECODE.maxFlowError;
  return maxFlowError === Infinity ? objects : withoutIncoherent(objects, flows, maxFlowError);
}

/** The flow at (y, x), interpolated between the four nearest pixels. */
function bilinearFlow(flows: ArrayLike<number>, width: number, height: number, y: number, x: number): [number, number] {
  const y0 = Math.max(0, Math.min(height - 1, Math.floor(y)));
  const x0 = Math.max(0, Math.min(width - 1, Math.floor(x)));
  const y1 = Math.min(height - 1, y0 + 1);
  const x1 = Math.min(width - 1, x0 + 1);
  const wy = Math.max(0, Math.min(1, y - y0));
  const wx = Math.max(0, Math.min(1, x - x0));
  const at = (yy: number, xx: number, c: number) => flows[2 * (yy * width + xx) + c];
  const mix = (c: number) => (1 - wy) * ((1 - wx) * at(y0, x0, c) + wx * at(y0, x1, c)) + wy * ((1 - wx) * at(y1, x0, c) + wx * at(y1, x1, c));
  return [mix(0), mix(1)];
}

/** `objects` without those whose remade flows differ from the network's directions by more than `maxError`. */
function withoutIncoherent(objects: LabelMap<Int32Array> & { readonly count: number }, flows: ArrayLike<number>, maxError: number): LabelMap<Int32Array> & { readonly count: number } {
  const { width, height, data: labels, count } = objects;
  const own = flowsOfLabels(objects);
  const error = new Float64Array(count + 1);
  const area = new Int32Array(count + 1);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === 0) continue;
    const length = Math.hypot(flows[2 * i], flows[2 * i + 1]);
    const [py, px] = length > 0.05 ? [flows[2 * i] / length, flows[2 * i + 1] / length] : [0, 0];
    error[l] += (py - own[2 * i]) ** 2 + (px - own[2 * i + 1]) ** 2;
    area[l]++;
  }
  const renumber = new Int32Array(count + 1);
  let kept = 0;
  for (let l = 1; l <= count; l++) if (area[l] > 0 && error[l] / area[l] <= maxError) renumber[l] = ++kept;
  const out = Int32Array.from(labels, (l) => renumber[l]);
  return { width, height, data: out, count: kept };
}
