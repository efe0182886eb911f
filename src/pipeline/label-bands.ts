/**
 * A slide's instance label map, band by band, from its object regions (fine-results.ts `detectObjectRegions`), so
 * that no full-resolution label image is ever held: regions come top edge first, so a band of rows needs only the
 * regions that start above its bottom and end below its top. Each region is told to `onRegion` once, as it is first
 * needed, in the order the regions come (the order of the object ids), so that the objects files are written in
 * the same pass. Also the label map at a reduced size by the nearest rule (the overlay's), filled band by band.
 */
import type { LabelMap } from '../geometry/label-map.js';
import { nearestSourceIndices } from '../geometry/resize.js';
import type { ObjectRegion } from './fine-results.js';

export interface LabelBands {
  /**
   * Rows `top .. top + rows - 1` of the label map (object ids), asked for in order, top to bottom. The band is
   * overwritten by the next call: copy what must outlive it (a slide's band is 40 MB; one buffer, not one a band).
   */
  readonly render: (top: number, rows: number) => Promise<Int32Array>;
  /** Tells the regions no band has needed yet (none normally: every region lies in some band) to `onRegion`. */
  readonly finish: () => Promise<void>;
}

export function labelBands(regions: Iterable<ObjectRegion>, width: number, onRegion: (region: ObjectRegion) => void | Promise<void> = () => {}): LabelBands {
  const it = regions[Symbol.iterator]();
  let pending: ObjectRegion | undefined;
  let done = false;
  let active: ObjectRegion[] = [];
  const pull = async (): Promise<ObjectRegion | undefined> => {
    if (!pending && !done) {
      const next = it.next();
      if (next.done) done = true;
      else {
        pending = next.value;
        await onRegion(pending);
      }
    }
    return pending;
  };
  let lastBottom = 0;
  let buffer: Int32Array | undefined;
  return {
    async render(top, rows) {
      if (top < lastBottom) throw new Error(`label bands are rendered top to bottom: rows from ${top} asked after rows up to ${lastBottom}`);
      lastBottom = top + rows;
      for (let r = await pull(); r && r.rect.top < top + rows; r = await pull()) {
        active.push(r);
        pending = undefined;
      }
      active = active.filter((r) => r.rect.top + r.rect.height > top);
      if (!buffer || buffer.length < width * rows) buffer = new Int32Array(width * rows);
      const band = buffer.subarray(0, width * rows);
      band.fill(0);
      for (const { rect, labels } of active) {
        const y0 = Math.max(top, rect.top);
        const y1 = Math.min(top + rows, rect.top + rect.height);
        for (let y = y0; y < y1; y++) {
          const src = (y - rect.top) * rect.width;
          const dst = (y - top) * width + rect.left;
          for (let x = 0; x < rect.width; x++) {
            const v = labels[src + x];
            if (v !== 0) band[dst + x] = v;
          }
        }
      }
      return band;
    },
    async finish() {
      while (await pull()) pending = undefined;
      active = [];
      buffer = undefined;
    },
  };
}

/**
 * A `width` x `height` label map reduced to `w` x `h` by PyTorch's nearest rule (labels are never averaged), from
 * bands of its rows given in any order: `add(band, top, rows)` copies the rows the reduced map takes from them.
 */
export function nearestLabelsByBands(width: number, height: number, w: number, h: number): { add: (band: ArrayLike<number>, top: number, rows: number) => void; readonly map: LabelMap<Int32Array> } {
  const rows = nearestSourceIndices(height, h);
  const cols = nearestSourceIndices(width, w);
  const data = new Int32Array(w * h);
  return {
    map: { width: w, height: h, data },
    add(band, top, n) {
      for (let y = 0; y < h; y++) {
        const r = rows[y] - top;
        if (r < 0 || r >= n) continue;
        const src = r * width;
        for (let x = 0; x < w; x++) data[y * w + x] = band[src + cols[x]];
      }
    },
  };
}
