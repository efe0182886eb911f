/**
 * One layer of the deep-zoom viewer: an OpenSeadragon tiled image whose tiles are drawn on demand by an async
 * renderer (a worker) instead of fetched from a server. OpenSeadragon's own pyramid (level L is the image at
 * 2^(L - maxLevel)) is mapped to full-resolution regions; the renderer decides which of the slide's levels serves
 * them. `refresh()` redraws the layer when what it shows changed (results arriving region by region, another
 * method): the new tiles load behind the old ones, which go once the new ones are in, so nothing flashes.
 */
import OpenSeadragon from 'openseadragon';
import { TILE_SIZE, type TileGeometry, tileGeometry } from './tile-geometry.js';

export type { TileGeometry };

export type TileRenderer = (tile: TileGeometry) => Promise<Uint8ClampedArray>;

interface LayerOptions {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly render: TileRenderer;
  readonly visible?: boolean;
  /**
   * Tile pixels per image pixel at the finest level (a power of two; default 1): overlays are drawn finer than the
   * image so that outlines and boxes stay one screen pixel wide when zoomed in past full resolution.
   */
  readonly supersample?: number;
}

/** The subset of OpenSeadragon's ImageJob a tile source uses. */
interface Job {
  readonly tile: { readonly level: number; readonly x: number; readonly y: number };
  readonly userData: { aborted?: boolean };
  finish(data: unknown, request: null, dataType: string): void;
  fail(message: string, request: null): void;
}

export class TileLayer {
  private item: OpenSeadragon.TiledImage | undefined;
  private generation = 0;
  private visible: boolean;
  private pending: Promise<void> | undefined;
  private again = false;
  private immediate = false;
  private destroyed = false;

  constructor(
    private readonly viewer: OpenSeadragon.Viewer,
    private readonly o: LayerOptions,
  ) {
    this.visible = o.visible ?? true;
  }

  /** Adds the layer above those added before it. */
  async add(): Promise<void> {
    this.item = await this.addItem(this.viewer.world.getItemCount());
  }

  /**
   * Redraws every tile, new ones replacing old ones as they load (more of the same result), or at once when the old
   * ones are wrong (`immediate`: another result); calls while one is loading are coalesced.
   */
  refresh({ immediate = false }: { immediate?: boolean } = {}): void {
    if (immediate) this.immediate = true;
    if (this.pending) {
      this.again = true;
      return;
    }
    const now = this.immediate;
    this.immediate = false;
    this.pending = this.swap(now).finally(() => {
      this.pending = undefined;
      if (this.again && !this.destroyed) {
        this.again = false;
        this.refresh();
      }
    });
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    this.item?.setOpacity(visible ? 1 : 0);
  }

  isVisible(): boolean {
    return this.visible;
  }

  destroy(): void {
    this.destroyed = true;
    if (this.item) this.viewer.world.removeItem(this.item);
    this.item = undefined;
  }

  private async swap(immediate: boolean): Promise<void> {
    const old = this.item;
    if (!old || this.destroyed) return;
    const index = this.viewer.world.getIndexOfItem(old);
    // A shown layer's new tiles load unseen (opacity 0, preloading) behind the old ones and are shown once in: a
    // visible layer with no tile drawn yet keeps OpenSeadragon redrawing the whole viewer every frame until one comes,
    // and while a run goes the worker answers tiles only between network calls.
    const behind = this.visible && !immediate;
    const fresh = await this.addItem(index + 1, behind);
    if (this.destroyed) {
      this.viewer.world.removeItem(fresh);
      return;
    }
    // A hidden layer loads nothing: swap at once. A shown one waits for its new tiles (at most a few seconds).
    if (behind) {
      await whenLoaded(fresh, 5000);
      if (this.destroyed) {
        this.viewer.world.removeItem(fresh);
        return;
      }
      fresh.setPreload(false);
      fresh.setOpacity(this.visible ? 1 : 0);
    }
    this.viewer.world.removeItem(old);
    this.item = fresh;
  }

  private addItem(index: number, unseen = false): Promise<OpenSeadragon.TiledImage> {
    const generation = ++this.generation;
    const { name, width, height, render, supersample = 1 } = this.o;
    const tileSource = {
      // OpenSeadragon's finest level has the source's size: a supersampled layer is a larger image, drawn over the
      // same place (every layer spans the viewport's width).
      width: width * supersample,
      height: height * supersample,
      tileSize: TILE_SIZE,
      tileOverlap: 0,
      getTileUrl: (level: number, x: number, y: number) => `${name}/${generation}/${level}/${x}_${y}`,
      // Told opaque even for the overlays, which are transparent where they show nothing: OpenSeadragon's canvas
      // drawer draws a transparent layer that is not the bottom one through a viewer-sized sketch canvas, blended onto
      // the viewer on every redraw (on a canvas drawn by the CPU, half to two thirds of the main thread during a
      // slide's run, docs/results/web-speed.md). The tiles' own alpha composites the same without it.
      hasTransparency: () => false,
      downloadTileStart: (job: Job) => {
        const tile = tileGeometry(width, height, job.tile.level, job.tile.x, job.tile.y, TILE_SIZE, supersample);
        render(tile).then(
          (rgba) => {
            if (job.userData.aborted) return;
            const canvas = document.createElement('canvas');
            canvas.width = tile.width;
            canvas.height = tile.height;
            const context = canvas.getContext('2d')!;
            context.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, tile.width, tile.height), 0, 0);
            job.finish(context, null, 'context2d');
          },
          (error: Error) => {
            if (!job.userData.aborted) job.fail(`tile ${name} ${job.tile.level}/${job.tile.x}/${job.tile.y}: ${error.message}`, null);
          },
        );
      },
      downloadTileAbort: (job: Job) => {
        job.userData.aborted = true;
      },
    };
    return new Promise((resolve, reject) => {
      this.viewer.addTiledImage({
        tileSource,
        index,
        opacity: this.visible && !unseen ? 1 : 0,
        preload: unseen,
        success: (event) => resolve((event as unknown as { item: OpenSeadragon.TiledImage }).item),
        error: (error) => reject(new Error(`the viewer could not add its ${name} layer (${(error as { message?: string }).message ?? error})`)),
      });
    });
  }
}

function whenLoaded(item: OpenSeadragon.TiledImage, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      item.removeHandler('fully-loaded-change', onChange);
      resolve();
    };
    const onChange = (event: { fullyLoaded: boolean }) => {
      if (event.fullyLoaded) done();
    };
    const timer = setTimeout(done, timeoutMs);
    item.addHandler('fully-loaded-change', onChange as never);
    if ((item as unknown as { getFullyLoaded(): boolean }).getFullyLoaded()) done();
  });
}
