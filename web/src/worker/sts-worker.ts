/**
 * The worker that owns the heavy state (the image source, models, tensors, results) so the page stays responsive.
 * It runs the same streaming pipeline as `sts predict` (streamingSegmentThenSegment on an `ImageSource` read by
 * windows from the user's file; the rough pass at the rough model's training scale, corrected for the file's pixel
 * size, on a pyramid level or a streamed downscale; `--within-rough` and `--rough-only-up-to` as options) and finds
 * the objects the same way, so the page's results and downloads are `sts predict`'s. Memory is the pipeline's
 * working set (the rough mask, one byte per fine-map pixel per box), never a full-resolution image or mask: the
 * viewer's tiles, the downloads and the objects are rendered from the fine results a part at a time. Every request
 * gets a reply or an `error` naming the step, never silence; a cancel is seen before the next network call.
 */
import {
  type FineResults,
  type ImageSource,
  type DisposableNetwork,
  type Progress,
  type SegmentationNetwork,
  detectObjects,
  overlaySize,
  pairPassOfModels,
  renderDownscaled,
  roughMaskOf,
  roughResults,
  scaleForPixelSize,
  streamingSegmentThenSegment,
} from 'segment-then-segment/core';
import { ObjectDownloads, maskPng } from '../objects/exports.js';
import { ObjectRows, areasOf, summarizeAreas } from '../objects/objects.js';
import { grayOf, openImage } from '../source/open-image.js';
import { startBackend } from './backend.js';
import { type ModelPair, loadModelPair } from './models.js';
import { overlayTile } from './overlay-tile.js';
import type { BackendChoice, Method, ObjectsReply, Reply, Request, RunOptions, Step } from './protocol.js';

const scope = self as unknown as { postMessage(message: Reply, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<Request>) => void) | null };
const post = (message: Reply, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

/** Crops (and rough tiles) per network call: small enough that progress moves and a cancel is seen soon. */
const FINE_BATCH = 8;
/** Masks up to this many pixels download at full resolution (as `sts predict`'s mask.png); larger at overlay size. */
const FULL_MASK_PIXELS = 4096 * 4096;

let backendReady: Promise<unknown> = Promise.resolve();
let image: { source: ImageSource; name: string } | undefined;
let models: ModelPair | undefined;
let networks: { rough: DisposableNetwork; fine: DisposableNetwork } | undefined;
let backendChoice: BackendChoice = 'auto';
let running: AbortController | undefined;

/** The current run's results: partial while it runs (the viewer shows them region by region), then final. */
interface Outcome {
  readonly width: number;
  readonly height: number;
  sts?: FineResults;
  baseline?: FineResults;
  readonly objects: Partial<Record<Method, Promise<ObjectsReply>>>;
}
let outcome: Outcome | undefined;

scope.onmessage = ({ data: request }) => {
  if (request.type === 'cancel') {
    running?.abort();
    return;
  }
  if (request.type === 'tile') {
    // Tiles never fail the page: a tile that cannot be drawn is drawn empty.
    let rgba: Uint8ClampedArray;
    const t0 = performance.now();
    try {
      rgba = overlayTile(outcome?.[request.method], request.region, request.width, request.height);
    } catch (error) {
      console.error(error);
      rgba = new Uint8ClampedArray(request.width * request.height * 4);
    }
    post({ type: 'tile', id: request.id, rgba, ms: performance.now() - t0 }, [rgba.buffer]);
    return;
  }
  const step: Step = request.type;
  const controller = request.type === 'run' ? new AbortController() : undefined;
  handle(request, controller).catch((error: unknown) => {
    if (controller?.signal.aborted) post({ type: 'cancelled' });
    else post({ type: 'error', step, message: error instanceof Error ? error.message : String(error) });
  });
};

async function handle(request: Exclude<Request, { type: 'cancel' | 'tile' }>, controller: AbortController | undefined): Promise<void> {
  switch (request.type) {
    case 'init': {
      backendChoice = request.backend;
      backendReady = startBackend(request.backend, request.threads);
      const engine = (await backendReady) as Awaited<ReturnType<typeof startBackend>>;
      post({ type: 'ready', ...engine });
      return;
    }
    case 'open': {
      const t0 = performance.now();
      running?.abort();
      outcome = undefined;
      await image?.source.close();
      image = undefined;
      const { source, kind } = await openImage(request.file);
      image = { source, name: request.file.name };
      const { width, height, levels, pixelSizeUm } = source;
      post({ type: 'image', name: request.file.name, width, height, levels, kind, ...(pixelSizeUm ? { pixelSizeUm } : {}), openMs: performance.now() - t0 });
      return;
    }
    case 'models': {
      await backendReady;
      const t0 = performance.now();
      networks?.rough.dispose();
      networks?.fine.dispose();
      networks = undefined;
      models = undefined;
      models = await loadModelPair(request.source, backendChoice);
      networks = { rough: models.rough.network(), fine: models.fine.network() };
      post({ type: 'models', info: models.info, loadMs: performance.now() - t0 });
      return;
    }
    case 'run':
      await run(request.options, controller!);
      return;
    case 'objects': {
      const reply = await objectsOf(request.method);
      post({ type: 'objects', ...reply });
      return;
    }
    case 'mask': {
      const fine = outcome?.[request.method];
      if (!outcome || !fine) throw new Error('there is no result yet; segment the image first');
      const { width, height } = outcome;
      const size = width * height <= FULL_MASK_PIXELS ? { width, height } : overlaySize(width, height);
      const png = maskPng(renderDownscaled(fine, { left: 0, top: 0, width, height }, size.width, size.height));
      post({ type: 'mask', method: request.method, png, ...size }, [png.buffer]);
      return;
    }
  }
}

async function run(options: RunOptions, controller: AbortController): Promise<void> {
  if (!image) throw new Error('no image is open; open a PNG, JPEG or TIFF image first');
  if (!models || !networks) throw new Error('no model pair is loaded; choose a bundled pair or load your own model files first');
  running?.abort();
  running = controller;
  const { signal } = controller;
  const { source } = image;
  const { size, channels } = models.info;
  const t0 = performance.now();
  const current: Outcome = { width: source.width, height: source.height, objects: {} };
  outcome = current;
  const pass = pairPassOfModels(models.rough.metadata, models.fine.metadata);
  const roughClock = { networkMs: 0 };
  const fineClock = { networkMs: 0, firstCallAt: undefined as number | undefined };
  const result = await streamingSegmentThenSegment(channels === 1 ? grayOf(source) : source, {
    size,
    rough: timed(networks.rough, roughClock),
    fine: timed(networks.fine, fineClock),
    // As sts predict: the training scale, corrected for this file's pixel size when both record one.
    scale: scaleForPixelSize(pass.scale, source.pixelSizeUm),
    tileAbove: pass.tileAbove,
    // As sts predict: a fine network trained on windows of large boxes is run so.
    maxCropSide: pass.maxCropSide,
    dropPolicy: options.dropPolicy,
    withinRough: options.withinRough,
    roughOnlyUpTo: options.withinRough ? options.roughOnlyUpTo : 0,
    batchSize: FINE_BATCH,
    // The viewer redraws zoomed-out tiles as crops arrive: maps kept unpacked (streaming-sts.ts, packMaps).
    packMaps: false,
    signal,
    onProgress: throttled((progress) => post({ type: 'progress', progress })),
    onResults: (added, partial, kind) => {
      current.sts = partial;
      const boxes = Int32Array.from(added.flatMap(({ box }) => [box.left, box.top, box.width, box.height]));
      post({ type: 'results', boxes, crops: kind === 'fine' }, [boxes.buffer]);
    },
  });
  const fineEnd = performance.now();
  current.sts = result;
  current.baseline = roughResults(roughMaskOf(result), result.width, result.height);
  const objects = await objectsOf('sts', signal);
  const fineStart = fineClock.firstCallAt ?? fineEnd;
  // The objects first: when the page hears 'result', the table and the downloads are ready.
  post({ type: 'objects', ...objects });
  post({
    type: 'result',
    width: result.width,
    height: result.height,
    crops: result.boxes.length - result.roughOnly,
    roughOnly: result.roughOnly,
    rough: { mode: result.rough.mode, tiles: result.rough.tiles, flatTiles: result.rough.flatTiles, level: result.rough.level },
    ms: performance.now() - t0,
    networkMs: roughClock.networkMs + fineClock.networkMs,
    phases: {
      roughMs: fineStart - t0,
      roughNetworkMs: roughClock.networkMs,
      fineMs: fineEnd - fineStart,
      fineNetworkMs: fineClock.networkMs,
      objectsMs: performance.now() - fineEnd,
    },
  });
  if (running === controller) running = undefined;
}

/**
 * The objects of a result (the library's detectObjects, as `sts predict` finds them: group by group of touching
 * boxes), streamed into the table and the downloads; computed once per result and method. It yields to the event
 * loop as it goes, so that the viewer's tiles and a cancel are still answered on a slide.
 */
function objectsOf(method: Method, signal?: AbortSignal): Promise<ObjectsReply> {
  const current = outcome;
  const fine = current?.[method];
  if (!current || !fine) return Promise.reject(new Error('there is no result yet; segment the image first'));
  const known = current.objects[method];
  if (known) return known;
  const promise = (async () => {
    const rows = new ObjectRows();
    const downloads = new ObjectDownloads();
    let last = performance.now();
    let found = 0;
    for (const object of detectObjects(fine, current.width, current.height)) {
      rows.add(object);
      downloads.add(object);
      if (++found % 256 === 0) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        signal?.throwIfAborted();
        if (performance.now() - last > 250) {
          post({ type: 'finding', method, found });
          last = performance.now();
        }
      }
    }
    const table = rows.finish();
    return { method, rows: table, summary: summarizeAreas(areasOf(table)), ...downloads.finish() };
  })();
  current.objects[method] = promise;
  // A search that failed (or was cancelled) is not kept: asking again starts it afresh.
  promise.catch(() => {
    if (current.objects[method] === promise) delete current.objects[method];
  });
  return promise;
}

/**
 * Adds each network call's time to `clock`, so that the page can say how much of a run was the networks'. (The
 * pipeline itself gives the event loop turns between calls, so that `cancel` and tile requests are heard mid-run,
 * and checks the signal between batches: src/pipeline/yielding-network.ts.)
 */
function timed(network: SegmentationNetwork, clock: { networkMs: number; firstCallAt?: number }): SegmentationNetwork {
  const call: SegmentationNetwork = async (inputs) => {
    const t0 = performance.now();
    clock.firstCallAt ??= t0;
    try {
      return await network(inputs);
    } finally {
      clock.networkMs += performance.now() - t0;
    }
  };
  // Keeps what the network says of itself: an instance fine network's `outputs: 2` (without it, the bundled
  // nuclei pair's two maps per crop were refused as the wrong size).
  return Object.assign(call, network);
}

/** A slide's rough pass reports every one of its tens of thousands of tiles: the page hears of them a few times a second. */
function throttled(send: (progress: Progress) => void): (progress: Progress) => void {
  let last = 0;
  let stage = '';
  return (progress) => {
    const now = performance.now();
    if (progress.done === progress.total || progress.stage !== stage || now - last > 150) {
      stage = progress.stage;
      last = now;
      send(progress);
    }
  };
}
