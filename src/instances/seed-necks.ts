/**
 * Seeds joined by a neck, cut apart. Where two nuclei touch, the fine network's cores sometimes join through a thin
 * bridge, and one seed then floods both nuclei (on the nuclei pair's validation images, 468 of 538 merged nuclei
 * were such bridged seeds). Each seed is eroded on its own, one pixel ring at a time, up to `depth` times: if it
 * falls into two or more pieces of at least `minPiece` pixels, those pieces become its seeds (the flood then gives
 * each its share of the foreground). A seed that only shrinks, or sheds small crumbs, stays whole. This is the
 * classic "erode until it separates" rule for touching blobs, applied per seed so that one large seed's erosion
 * never removes a small neighbour.
 */
import { connectedComponents, labelImage } from '../geometry/components.js';

export interface NeckOptions {
  /** Erosions tried per seed, in pixels; 0 cuts nothing. */
  readonly depth: number;
  /** The smallest piece that counts as a seed of its own, in pixels. */
  readonly minPiece: number;
}

/**
 * Chosen on the nuclei pair's validation images (docs/results/nuclei-instances/README.md, "Necks"): deeper erosions
 * split a few more merges and as many true nuclei; smaller pieces cut noise into seeds.
 */
export const NECKS: NeckOptions = { depth: 6, minPiece: 8 };

/** `seeds` (0/1, `width` x `height`) with every necked seed replaced by its pieces; a new array. */
export function cutNecks(seeds: Uint8Array, width: number, height: number, o: NeckOptions = NECKS): Uint8Array {
  const out = new Uint8Array(seeds);
  if (o.depth <= 0) return out;
  const groups = connectedComponents({ width, height, channels: 1, data: seeds });
  const labels = labelImage(groups);
  for (let g = 1; g <= groups.count; g++) {
    // A seed too small to hold two pieces cannot be two nuclei.
    if (groups.areas[g - 1] < 2 * o.minPiece) continue;
    const box = groups.boxes[g - 1];
    // The seed alone, in its box with a pixel of margin, so that erosion sees background all round.
    const w = box.width + 2;
    const h = box.height + 2;
    let m: Uint8Array = new Uint8Array(w * h);
    for (let y = 0; y < box.height; y++) {
      for (let x = 0; x < box.width; x++) if (labels[(box.top + y) * width + box.left + x] === g) m[(y + 1) * w + x + 1] = 1;
    }
    for (let step = 0; step < o.depth; step++) {
      m = erode4(m, w, h);
      const pieces = connectedComponents({ width: w, height: h, channels: 1, data: m });
      if (pieces.count === 0) break;
      let big = 0;
      for (const a of pieces.areas) if (a >= o.minPiece) big++;
      if (big < 2) continue;
      const pieceLabels = labelImage(pieces);
      for (let y = 0; y < box.height; y++) {
        for (let x = 0; x < box.width; x++) {
          const i = (box.top + y) * width + box.left + x;
          if (labels[i] !== g) continue;
          const p = pieceLabels[(y + 1) * w + x + 1];
          out[i] = p > 0 && pieces.areas[p - 1] >= o.minPiece ? 1 : 0;
        }
      }
      break;
    }
  }
  return out;
}

/** One 4-connected erosion (a pixel stays when it and its four neighbours are set); the border must be 0. */
function erode4(m: Uint8Array, w: number, h: number): Uint8Array {
  const o = new Uint8Array(m.length);
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (m[i] && m[i - 1] && m[i + 1] && m[i - w] && m[i + w]) o[i] = 1;
    }
  }
  return o;
}
