/**
 * The crop boxes as a viewer layer: boxes arrive with the results (a slide has tens of thousands) and each tile
 * draws the outlines of those it meets, two tile pixels wide (the viewer draws tiles at half to full size without
 * smoothing, which would drop one-pixel lines).
 */
import type { TileGeometry } from './tile-geometry.js';

const COLOUR = [255, 220, 0, 255] as const;

export class CropBoxes {
  private chunks: Int32Array[] = [];
  count = 0;

  /** Boxes as left, top, width, height, ... */
  add(boxes: Int32Array): void {
    this.chunks.push(boxes);
    this.count += boxes.length / 4;
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
  }

  async render({ region, width, height }: TileGeometry): Promise<Uint8ClampedArray> {
    const rgba = new Uint8ClampedArray(width * height * 4);
    const sx = width / region.width;
    const sy = height / region.height;
    const put = (x: number, y: number) => {
      if (x >= 0 && x < width && y >= 0 && y < height) rgba.set(COLOUR, (y * width + x) * 4);
    };
    for (const chunk of this.chunks) {
      for (let k = 0; k < chunk.length; k += 4) {
        const [l, t, w, h] = [chunk[k], chunk[k + 1], chunk[k + 2], chunk[k + 3]];
        if (l >= region.left + region.width || l + w <= region.left || t >= region.top + region.height || t + h <= region.top) continue;
        const x0 = Math.floor((l - region.left) * sx);
        const x1 = Math.ceil((l + w - region.left) * sx) - 1;
        const y0 = Math.floor((t - region.top) * sy);
        const y1 = Math.ceil((t + h - region.top) * sy) - 1;
        for (let x = Math.max(0, x0); x <= Math.min(width - 1, x1); x++) {
          put(x, y0);
          put(x, y0 + 1);
          put(x, y1);
          put(x, y1 - 1);
        }
        for (let y = Math.max(0, y0); y <= Math.min(height - 1, y1); y++) {
          put(x0, y);
          put(x0 + 1, y);
          put(x1, y);
          put(x1 - 1, y);
        }
      }
    }
    return rgba;
  }
}
