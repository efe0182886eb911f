/**
 * Outlines of labelled regions as polygons along pixel edges, so a polygon's area is exactly its pixel count (the
 * marching-squares outlines of d3-contour and similar libraries cut the corners and lose area, and QuPath itself
 * exports masks as pixel-edge polygons). Coordinates are pixel corners: pixel (x, y) spans [x, x + 1] x [y, y + 1].
 */
import type { Box } from './raster.js';

/** A ring of [x, y] corners, closed (first == last). Outer rings run clockwise on screen (y down), holes counter-clockwise. */
export type Ring = [number, number][];

/** Polygons (outer ring first, then its holes); one region gives several when parts touch only at a corner. */
export type Polygons = Ring[][];

const DX = [1, 0, -1, 0]; // east, south, west, north
const DY = [0, 1, 0, -1];

/**
 * The outline of the pixels of `labels` (a `width`-wide label image) equal to `label`, within `box` (the region's
 * bounding box), offset by (`offsetX`, `offsetY`). Where two pixels of the region touch only at a corner, the
 * outline turns so that each stays a simple ring: they become separate polygons meeting at that corner.
 */
export function traceRegion(labels: Int32Array, width: number, label: number, box: Box, offsetX = 0, offsetY = 0): Polygons {
  const { left: bx, top: by, width: bw, height: bh } = box;
  const inside = (x: number, y: number) => x >= bx && y >= by && x < bx + bw && y < by + bh && labels[y * width + x] === label;
  const gw = bw + 1;
  const vertex = (x: number, y: number) => (y - by) * gw + (x - bx);
  // Up to two outgoing edges per corner (two only where region pixels meet diagonally).
  const out1 = new Int32Array(gw * (bh + 1)).fill(-1);
  const out2 = new Int32Array(gw * (bh + 1)).fill(-1);
  const edgeFrom: number[] = [];
  const edgeDir: number[] = [];
  const addEdge = (x: number, y: number, dir: number) => {
    const v = vertex(x, y);
    const id = edgeDir.length;
    edgeFrom.push(v);
    edgeDir.push(dir);
    if (out1[v] < 0) out1[v] = id;
    else out2[v] = id;
  };
  for (let y = by; y < by + bh; y++) {
    for (let x = bx; x < bx + bw; x++) {
      if (!inside(x, y)) continue;
      // Each boundary side of the pixel, walked with the region on the right.
      if (!inside(x, y - 1)) addEdge(x, y, 0);
      if (!inside(x + 1, y)) addEdge(x + 1, y, 1);
      if (!inside(x, y + 1)) addEdge(x + 1, y + 1, 2);
      if (!inside(x - 1, y)) addEdge(x, y + 1, 3);
    }
  }
  const used = new Uint8Array(edgeDir.length);
  const rings: Ring[] = [];
  for (let e0 = 0; e0 < edgeDir.length; e0++) {
    if (used[e0]) continue;
    const ring: Ring = [];
    let e = e0;
    let prevDir = -1;
    while (!used[e]) {
      used[e] = 1;
      const v = edgeFrom[e];
      const x = (v % gw) + bx;
      const y = Math.floor(v / gw) + by;
      const d = edgeDir[e];
      if (d !== prevDir) ring.push([x + offsetX, y + offsetY]);
      prevDir = d;
      const nv = vertex(x + DX[d], y + DY[d]);
      const a = out1[nv];
      const b = out2[nv];
      // At a diagonal meeting, turning right keeps hugging the same pixel, which keeps the ring simple.
      if (b >= 0 && !used[a] && !used[b]) e = edgeDir[b] === (d + 1) % 4 ? b : a;
      else e = a >= 0 && !used[a] ? a : b >= 0 ? b : a;
      if (e < 0) break;
    }
    if (ring.length > 0 && edgeDir[e0] === prevDir && ring.length > 1) {
      // The walk ended on the direction it started with: the first corner is mid-side, not a corner.
      ring.shift();
    }
    ring.push([ring[0][0], ring[0][1]]);
    rings.push(ring);
  }
  return assemble(rings);
}

/** Signed area of a closed ring: positive for outer rings (clockwise on screen), negative for holes. */
export function ringArea(ring: Ring): number {
  let s = 0;
  for (let i = 0; i + 1 < ring.length; i++) s += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  return s / 2;
}

/** Area of polygons: outer rings minus their holes. */
export function polygonsArea(polygons: Polygons): number {
  let s = 0;
  for (const p of polygons) for (const r of p) s += ringArea(r);
  return s;
}

function assemble(rings: Ring[]): Polygons {
  const outers = rings.filter((r) => ringArea(r) > 0);
  const holes = rings.filter((r) => ringArea(r) < 0);
  const polygons: Polygons = outers.map((r) => [r]);
  if (outers.length === 1) {
    polygons[0].push(...holes);
    return polygons;
  }
  for (const hole of holes) {
    // A point just inside the hole: beside its first side, on the left (holes run with the region on the right).
    const [x0, y0] = hole[0];
    const [x1, y1] = hole[1];
    const dx = Math.sign(x1 - x0);
    const dy = Math.sign(y1 - y0);
    const px = x0 + dx * 0.5 + dy * 0.25;
    const py = y0 + dy * 0.5 - dx * 0.25;
    let best = -1;
    let bestArea = Infinity;
    outers.forEach((o, i) => {
      const a = ringArea(o);
      if (a < bestArea && contains(o, px, py)) {
        best = i;
        bestArea = a;
      }
    });
    polygons[Math.max(0, best)].push(hole);
  }
  return polygons;
}

function contains(ring: Ring, x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 2; i < ring.length - 1; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
