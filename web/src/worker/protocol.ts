/** Messages between the page and the Segment-then-Segment worker. Pixel buffers travel as transferables. */
import type { Box, DetectedObject, DropPolicy, Progress } from 'segment-then-segment/core';

export type BackendChoice = 'auto' | 'webgpu' | 'webgl' | 'wasm';

/** Where a model pair comes from: the app's bundled files (URLs) or files the user picked. */
export type ModelSource =
  | { readonly kind: 'url'; readonly rough: string; readonly fine: string }
  | { readonly kind: 'files'; readonly rough: File[]; readonly fine: File[] };

export type Request =
  | { readonly type: 'init'; readonly backend: BackendChoice }
  | { readonly type: 'open'; readonly file: File }
  | { readonly type: 'models'; readonly source: ModelSource }
  | { readonly type: 'run'; readonly dropPolicy: DropPolicy }
  | { readonly type: 'cancel' };

/** Which step a failure belongs to, so the page can say which of the user's inputs to change. */
export type Step = 'init' | 'open' | 'models' | 'run';

export interface ModelPairInfo {
  readonly size: number;
  readonly channels: number;
  readonly description: string;
}

export type Reply =
  | { readonly type: 'ready'; readonly backend: string; readonly skipped: string[] }
  | { readonly type: 'image'; readonly name: string; readonly width: number; readonly height: number; readonly rgb: Uint8Array; readonly decodeMs: number }
  | { readonly type: 'models'; readonly info: ModelPairInfo; readonly loadMs: number }
  | { readonly type: 'progress'; readonly progress: Progress }
  | {
      readonly type: 'result';
      readonly sts: Uint8Array;
      readonly baseline: Uint8Array;
      readonly boxes: Box[];
      /** Segment-then-Segment's objects, as `sts predict` finds them (detectObjects). */
      readonly objects: DetectedObject[];
      readonly width: number;
      readonly height: number;
      readonly ms: number;
    }
  | { readonly type: 'cancelled' }
  | { readonly type: 'error'; readonly step: Step; readonly message: string };
