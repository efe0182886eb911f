/**
 * The image with its overlay on one canvas, panned and zoomed by @panzoom/panzoom (drag, wheel, pinch). Pixels are
 * drawn by the library's own overlay (src/data/overlay.ts), the same code that draws the CLI's pictures.
 */
import Panzoom, { type PanzoomObject } from '@panzoom/panzoom';
import { overlay, type Box, type Mask, type Raster } from 'segment-then-segment/core';

export interface Layers {
  readonly mask?: Mask;
  readonly boxes?: readonly Box[];
}

const MASK_COLOUR = [60, 220, 90] as const;
const BOX_COLOUR = [255, 220, 0] as const;

export class Viewer {
  private readonly canvas: HTMLCanvasElement;
  private readonly panzoom: PanzoomObject;
  private image: Raster<Uint8Array> | undefined;

  constructor(private readonly frame: HTMLElement) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'image';
    frame.append(this.canvas);
    this.panzoom = Panzoom(this.canvas, { maxScale: 64, minScale: 0.02, canvas: true });
    frame.addEventListener('wheel', (event) => this.panzoom.zoomWithWheel(event));
    frame.addEventListener('dblclick', () => this.fit());
  }

  show(image: Raster<Uint8Array>): void {
    this.image = image;
    this.canvas.width = image.width;
    this.canvas.height = image.height;
    this.draw({});
    this.fit();
  }

  clear(): void {
    this.image = undefined;
    this.canvas.width = 0;
    this.canvas.height = 0;
  }

  draw(layers: Layers): void {
    if (!this.image) return;
    const picture = overlay(this.image, {
      ...(layers.mask ? { fill: { mask: layers.mask, color: MASK_COLOUR, alpha: 0.45 } } : {}),
      ...(layers.boxes ? { boxes: { boxes: layers.boxes, color: BOX_COLOUR } } : {}),
    });
    const rgba = new ImageData(picture.width, picture.height);
    for (let i = 0, n = picture.width * picture.height; i < n; i++) {
      rgba.data[i * 4] = picture.data[i * 3];
      rgba.data[i * 4 + 1] = picture.data[i * 3 + 1];
      rgba.data[i * 4 + 2] = picture.data[i * 3 + 2];
      rgba.data[i * 4 + 3] = 255;
    }
    this.canvas.getContext('2d')?.putImageData(rgba, 0, 0);
  }

  /** Whole image in view: scale to the frame, centred. */
  fit(): void {
    if (!this.image) return;
    const { clientWidth: fw, clientHeight: fh } = this.frame;
    const scale = 0.96 * Math.min(fw / this.image.width, fh / this.image.height, 8);
    this.panzoom.zoom(scale, { animate: false });
    // Panzoom scales about the element's centre and pans in unscaled pixels; the canvas starts at the frame's corner.
    const { width, height } = this.image;
    setTimeout(() => this.panzoom.pan((fw - width) / 2 / scale, (fh - height) / 2 / scale, { animate: false }));
  }
}
