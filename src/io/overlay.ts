/** Pictures for people: masks tinted over the image, box outlines, panels side by side. 8-bit RGB, typed arrays. */
import type { LabelMap } from '../geometry/label-map.js';
import type { Box, Mask, Raster } from '../geometry/raster.js';

export type Rgb = readonly [number, number, number];

export interface OverlayOptions {
  /** Tint foreground of this mask. */
  readonly fill?: { readonly mask: Mask; readonly color: Rgb; readonly alpha?: number };
  /**
   * Draw the outline (foreground pixels with a background 4-neighbour) of this mask; or, given a label map, of each
   * object (labelled pixels with a 4-neighbour of another label), so that touching objects are told apart.
   */
  readonly outline?: { readonly mask: Mask; readonly color: Rgb } | { readonly labels: LabelMap; readonly color: Rgb };
  readonly boxes?: { readonly boxes: readonly Box[]; readonly color: Rgb };
}

export function overlay(image: Raster<Uint8Array>, options: OverlayOptions): Raster<Uint8Array> {
  const { width: W, height: H } = image;
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    for (let k = 0; k < 3; k++) out[i * 3 + k] = image.data[i * image.channels + (image.channels >= 3 ? k : 0)];
  }
  const set = (i: number, [r, g, b]: Rgb, a = 1) => {
    out[i * 3] = out[i * 3] * (1 - a) + r * a;
    out[i * 3 + 1] = out[i * 3 + 1] * (1 - a) + g * a;
    out[i * 3 + 2] = out[i * 3 + 2] * (1 - a) + b * a;
  };
  if (options.fill) {
    const { mask, color, alpha = 0.45 } = options.fill;
    for (let i = 0; i < W * H; i++) if (mask.data[i] >= 0.5) set(i, color, alpha);
  }
  if (options.outline) {
    const { color } = options.outline;
    const outline = options.outline;
    // The object a pixel belongs to (0: none): the mask's one object, or the label.
    const objectAt =
      'labels' in outline
        ? (x: number, y: number) => (x >= 0 && y >= 0 && x < W && y < H ? outline.labels.data[y * W + x] : 0)
        : (x: number, y: number) => (x >= 0 && y >= 0 && x < W && y < H && outline.mask.data[y * W + x] >= 0.5 ? 1 : 0);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const k = objectAt(x, y);
        if (k !== 0 && !(objectAt(x - 1, y) === k && objectAt(x + 1, y) === k && objectAt(x, y - 1) === k && objectAt(x, y + 1) === k)) set(y * W + x, color);
      }
    }
  }
  if (options.boxes) {
    const { boxes, color } = options.boxes;
    for (const b of boxes) {
      const x1 = Math.min(W - 1, b.left + b.width - 1);
      const y1 = Math.min(H - 1, b.top + b.height - 1);
      for (let x = Math.max(0, b.left); x <= x1; x++) {
        if (b.top >= 0) set(b.top * W + x, color);
        set(y1 * W + x, color);
      }
      for (let y = Math.max(0, b.top); y <= y1; y++) {
        if (b.left >= 0) set(y * W + b.left, color);
        set(y * W + x1, color);
      }
    }
  }
  return { width: W, height: H, channels: 3, data: out };
}

/** Panels placed left to right (top-aligned) with a `gap` of white pixels. */
export function sideBySide(panels: readonly Raster<Uint8Array>[], gap = 8): Raster<Uint8Array> {
  const H = Math.max(...panels.map((p) => p.height));
  const W = panels.reduce((s, p) => s + p.width, 0) + gap * (panels.length - 1);
  const out = new Uint8Array(W * H * 3).fill(255);
  let x0 = 0;
  for (const p of panels) {
    paste(out, W, p, x0, 0);
    x0 += p.width + gap;
  }
  return { width: W, height: H, channels: 3, data: out };
}

/** Panels placed top to bottom (left-aligned) with a `gap` of white pixels. */
export function stackVertically(panels: readonly Raster<Uint8Array>[], gap = 8): Raster<Uint8Array> {
  const W = Math.max(...panels.map((p) => p.width));
  const H = panels.reduce((s, p) => s + p.height, 0) + gap * Math.max(0, panels.length - 1);
  const out = new Uint8Array(W * H * 3).fill(255);
  let y0 = 0;
  for (const p of panels) {
    paste(out, W, p, 0, y0);
    y0 += p.height + gap;
  }
  return { width: W, height: H, channels: 3, data: out };
}

/** Copies `panel` (gray or RGB[A]) into the RGB canvas `out` of width `W` at (x0, y0). */
function paste(out: Uint8Array, W: number, panel: Raster<Uint8Array>, x0: number, y0: number): void {
  const c = panel.channels;
  for (let y = 0; y < panel.height; y++) {
    for (let x = 0; x < panel.width; x++) {
      const o = ((y0 + y) * W + x0 + x) * 3;
      const i = (y * panel.width + x) * c;
      out[o] = panel.data[i];
      out[o + 1] = panel.data[c >= 3 ? i + 1 : i];
      out[o + 2] = panel.data[c >= 3 ? i + 2 : i];
    }
  }
}
