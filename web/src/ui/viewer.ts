/**
 * The deep-zoom viewer, on OpenSeadragon: the image from its own pyramid by tiles (the viewer worker), the mask
 * with the objects' outlines as an overlay drawn by the segmentation worker from the results so far (refreshed as
 * results come in, region by region), and the crop boxes as a third layer drawn here; each overlay toggles on and
 * off. Drag to pan, wheel to zoom, double-click to see the whole image.
 */
import OpenSeadragon from 'openseadragon';
import type { Box } from 'segment-then-segment/core';
import { TileLayer, type TileRenderer } from './tile-layer.js';

export type LayerName = 'image' | 'mask' | 'boxes';

/** Overlay tile pixels per image pixel at the finest level. */
const OVERLAY_SUPERSAMPLE = 8;

export class Viewer {
  private readonly osd: OpenSeadragon.Viewer;
  private layers: Partial<Record<LayerName, TileLayer>> = {};
  private size: { width: number; height: number } | undefined;
  private showing = 0;

  constructor(private readonly frame: HTMLElement) {
    this.osd = OpenSeadragon({
      element: frame,
      // The canvas drawer: the same pixels everywhere (no GPU needed), and tiles are canvases already.
      drawer: 'canvas',
      showNavigationControl: false,
      gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: false },
      // Relative to the finest layer, the overlays drawn OVERLAY_SUPERSAMPLE times finer than the image: up to 8
      // screen pixels per image pixel.
      maxZoomPixelRatio: 8 / OVERLAY_SUPERSAMPLE,
      // Image pixels as they are when zoomed in (no smoothing): what the networks saw.
      imageSmoothingEnabled: false,
      visibilityRatio: 0.2,
      // Tiles come from workers that may be busy with a batch of network calls for a second or two.
      timeout: 180_000,
      imageLoaderLimit: 8,
      // Every tile a view needs is asked for within a frame or two. OpenSeadragon redraws the whole viewer on every
      // frame in which it still has tiles to ask for; at its default of one a frame, each overlay refresh during a
      // run (dozens of tiles) meant a second of redrawing at the display's frame rate, on the CPU where there is no
      // GPU: half of the main thread, taken from the networks' threads.
      maxTilesPerFrame: 64,
      animationTime: 0.5,
    } as OpenSeadragon.Options);
    this.osd.addHandler('tile-load-failed', (event) => console.warn(`viewer: a tile failed (${(event as unknown as { message: string }).message})`));
    this.osd.addHandler('zoom', () => this.report());
    this.osd.addHandler('animation-finish', () => this.report());
    frame.addEventListener('dblclick', () => this.osd.viewport.goHome());
  }

  /** Shows an image of `width` x `height` whose layers' tiles come from `renderers`. */
  async show(size: { width: number; height: number }, renderers: Record<LayerName, TileRenderer>, visible: Record<'mask' | 'boxes', boolean>): Promise<void> {
    const mine = ++this.showing;
    this.clear();
    this.size = { width: size.width, height: size.height };
    const made: Partial<Record<LayerName, TileLayer>> = {};
    for (const name of ['image', 'mask', 'boxes'] as const) {
      const layer = new TileLayer(this.osd, { name, width: size.width, height: size.height, render: renderers[name], visible: name === 'image' || visible[name], supersample: name === 'image' ? 1 : OVERLAY_SUPERSAMPLE });
      await layer.add();
      if (mine !== this.showing) return layer.destroy();
      made[name] = layer;
    }
    this.layers = made;
    this.osd.viewport.goHome(true);
    this.frame.dataset.layers = this.describe();
  }

  /** Redraws a layer: behind the old tiles for more of the same result, at once (`immediate`) for another one. */
  refresh(name: LayerName, options?: { immediate?: boolean }): void {
    this.layers[name]?.refresh(options);
  }

  setVisible(name: 'mask' | 'boxes', visible: boolean): void {
    this.layers[name]?.setVisible(visible);
    this.frame.dataset.layers = this.describe();
  }

  /** Zooms to `box` (full-resolution pixels) with some context around it. */
  zoomTo(box: Box): void {
    const pad = Math.max(box.width, box.height) * 2 + 16;
    const item = this.osd.world.getItemAt(0);
    if (!item) return;
    this.osd.viewport.fitBounds(item.imageToViewportRectangle(box.left - pad, box.top - pad, box.width + 2 * pad, box.height + 2 * pad));
  }

  clear(): void {
    for (const layer of Object.values(this.layers)) layer.destroy();
    this.layers = {};
    this.size = undefined;
    this.osd.world.removeAll();
    this.frame.dataset.layers = '';
  }

  /** The zoom (screen pixels per image pixel) and shown layers, as attributes tests and people can read. */
  private report(): void {
    const item = this.osd.world.getItemAt(0);
    if (!this.size || !item) return;
    const zoom = item.viewportToImageZoom(this.osd.viewport.getZoom(true));
    this.frame.dataset.zoom = zoom.toPrecision(4);
  }

  private describe(): string {
    return (Object.entries(this.layers) as [LayerName, TileLayer][]).filter(([, l]) => l.isVisible()).map(([n]) => n).join(' ');
  }
}
