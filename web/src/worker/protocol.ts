/** Messages between the page and its two workers. Pixel buffers travel as transferables, downloads as Blobs. */
import type { Box, DropPolicy, Progress, PyramidLevel } from 'segment-then-segment/core';
import type { AreaSummary } from '../objects/objects.js';

export type BackendChoice = 'auto' | 'webgpu' | 'webgl' | 'wasm';

/** Where a model pair comes from: the app's bundled files (URLs) or files the user picked. */
export type ModelSource =
  | { readonly kind: 'url'; readonly rough: string; readonly fine: string }
  | { readonly kind: 'files'; readonly rough: File[]; readonly fine: File[] };

/** Which result a view, a table or a download is of. */
export type Method = 'sts' | 'baseline';

/** `sts predict`'s options beyond the paper that the page offers. */
export interface RunOptions {
  readonly dropPolicy: DropPolicy;
  /** --within-rough */
  readonly withinRough: boolean;
  /** --rough-only-up-to (rough-mask pixels; 0: every box gets a fine crop); needs withinRough. */
  readonly roughOnlyUpTo: number;
}

/** A part of the image (full-resolution pixels) wanted as a `width` x `height` RGBA tile. */
export interface TileRequest {
  readonly id: number;
  readonly region: Box;
  readonly width: number;
  readonly height: number;
}

export type Request =
  /** `threads`: wasm threads wanted (the page's ?threads=); default one per core. */
  | { readonly type: 'init'; readonly backend: BackendChoice; readonly threads?: number }
  | { readonly type: 'open'; readonly file: File }
  | { readonly type: 'models'; readonly source: ModelSource }
  | { readonly type: 'run'; readonly options: RunOptions }
  | { readonly type: 'cancel' }
  | ({ readonly type: 'tile'; readonly method: Method } & TileRequest)
  | { readonly type: 'objects'; readonly method: Method }
  | { readonly type: 'mask'; readonly method: Method };

/** Which step a failure belongs to, so the page can say which of the user's inputs to change. */
export type Step = 'init' | 'open' | 'models' | 'run' | 'objects' | 'mask';

export interface ModelPairInfo {
  readonly size: number;
  readonly channels: number;
  readonly description: string;
}

export interface ImageInfo {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly levels: readonly PyramidLevel[];
  readonly kind: 'tiff' | 'raster';
  readonly pixelSizeUm?: number;
}

export interface ObjectsReply {
  readonly method: Method;
  /** ObjectRows: ROW_FIELDS numbers per object. */
  readonly rows: Float64Array;
  readonly summary: AreaSummary;
  readonly csv: Blob;
  readonly geojson: Blob;
}

/** The engine the worker started, for the page's engine line (ui/engine-text.ts). */
export interface EngineInfo {
  /** The TensorFlow.js backend: 'wasm', 'webgl' or 'webgpu'. */
  readonly backend: string;
  /** Backends passed over, each with why ('webgpu: the browser offers no WebGPU adapter ...'). */
  readonly skipped: string[];
  /** Whether the page is cross-origin isolated (SharedArrayBuffer, threads). */
  readonly isolated: boolean;
  /** wasm only: SIMD in use, and the threads its thread pool has. */
  readonly simd?: boolean;
  readonly threads?: number;
  /** wasm only: why it runs on one thread, when it does. */
  readonly singleThread?: string;
}

export type Reply =
  | ({ readonly type: 'ready' } & EngineInfo)
  | ({ readonly type: 'image'; readonly openMs: number } & ImageInfo)
  | { readonly type: 'models'; readonly info: ModelPairInfo; readonly loadMs: number }
  | { readonly type: 'progress'; readonly progress: Progress }
  /**
   * Results arrived for these boxes (left, top, width, height, ... in full-resolution pixels): fine crops, or (once,
   * first) the boxes that keep the rough mask.
   */
  | { readonly type: 'results'; readonly boxes: Int32Array; readonly crops: boolean }
  | {
      readonly type: 'result';
      readonly width: number;
      readonly height: number;
      /** Fine crops run and boxes that kept the rough mask (`roughOnlyUpTo`). */
      readonly crops: number;
      readonly roughOnly: number;
      readonly rough: { readonly mode: 'single' | 'tiled'; readonly tiles: number; readonly flatTiles: number; readonly level: number };
      readonly ms: number;
      /** Of `ms`, the time spent in the networks' calls (the rest: reading windows, crops, fusion, objects). */
      readonly networkMs: number;
      /**
       * Where the time went (issue: the page as fast as Node): the rough pass (from the start until the first fine
       * call: reading and downscaling windows, the rough network, the boxes), the fine pass (crops read, the fine
       * network, the maps kept), and finding the objects; each pass with its networks' share.
       */
      readonly phases: { readonly roughMs: number; readonly roughNetworkMs: number; readonly fineMs: number; readonly fineNetworkMs: number; readonly objectsMs: number };
    }
  | { readonly type: 'finding'; readonly method: Method; readonly found: number }
  | ({ readonly type: 'objects' } & ObjectsReply)
  | { readonly type: 'mask'; readonly method: Method; readonly png: Uint8Array; readonly width: number; readonly height: number }
  /** A viewer tile of a result, with the time the worker spent drawing it (the page paces its redraws by it). */
  | { readonly type: 'tile'; readonly id: number; readonly rgba: Uint8ClampedArray; readonly ms: number }
  | { readonly type: 'cancelled' }
  | { readonly type: 'error'; readonly step: Step; readonly message: string };

/** The image tiles worker (worker/view-worker.ts): the slide's own pixels for the viewer. */
export type ViewRequest =
  | { readonly type: 'open'; readonly file: File }
  | ({ readonly type: 'tile' } & TileRequest);

export type ViewReply =
  | { readonly type: 'opened'; readonly width: number; readonly height: number }
  /** A small copy of the whole image is ready (for files whose pyramid has no small level): redraw the far views. */
  | { readonly type: 'overview' }
  | { readonly type: 'tile'; readonly id: number; readonly rgba: Uint8ClampedArray }
  | { readonly type: 'error'; readonly message: string };
