/**
 * The worker that owns the heavy state (decoded image, models, tensors) so the page stays responsive. It runs the
 * same streaming pipeline as `sts predict` (streamingSegmentThenSegment on the decoded image, the rough pass as the
 * rough model's training scale says) and finds the objects the same way, so the page's results and downloads are
 * `sts predict`'s. It answers every request with a reply or an `error` naming the step, never silence.
 */
import {
  type ModelNetwork,
  type Raster,
  type SegmentationNetwork,
  detectObjects,
  modelNetwork,
  rasterImageSource,
  renderRegion,
  roughPassOfModel,
  streamingSegmentThenSegment,
  upsampleRough,
  type DropPolicy,
} from 'segment-then-segment/core';
import { decodeImage } from '../decode/image.js';
import { startBackend } from './backend.js';
import { type ModelPair, loadModelPair } from './models.js';
import type { Reply, Request, Step } from './protocol.js';

const scope = self as unknown as { postMessage(message: Reply, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<Request>) => void) | null };
const post = (message: Reply, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

let backendReady: Promise<unknown> = Promise.resolve();
let image: Raster<Uint8Array> | undefined;
let models: ModelPair | undefined;
let networks: { rough: ModelNetwork; fine: ModelNetwork } | undefined;
let running: AbortController | undefined;
/** Crops per network call: small enough that progress moves and a cancel is seen soon. */
const FINE_BATCH = 8;

scope.onmessage = ({ data: request }) => {
  if (request.type === 'cancel') {
    running?.abort();
    return;
  }
  const step: Step = request.type;
  handle(request).catch((error: unknown) => {
    if (running?.signal.aborted && request.type === 'run') post({ type: 'cancelled' });
    else post({ type: 'error', step, message: error instanceof Error ? error.message : String(error) });
  });
};

async function handle(request: Exclude<Request, { type: 'cancel' }>): Promise<void> {
  switch (request.type) {
    case 'init': {
      backendReady = startBackend(request.backend);
      const { backend, skipped } = (await backendReady) as Awaited<ReturnType<typeof startBackend>>;
      post({ type: 'ready', backend, skipped });
      return;
    }
    case 'open': {
      const t0 = performance.now();
      image = undefined;
      const decoded = await decodeImage(request.file);
      image = decoded;
      const rgb = decoded.data.slice();
      post({ type: 'image', name: request.file.name, width: decoded.width, height: decoded.height, rgb, decodeMs: performance.now() - t0 }, [rgb.buffer]);
      return;
    }
    case 'models': {
      await backendReady;
      const t0 = performance.now();
      networks?.rough.dispose();
      networks?.fine.dispose();
      networks = undefined;
      models = undefined;
      models = await loadModelPair(request.source);
      // Made once per pair: each folds its model's batch norms on first use and owns the model from then on.
      networks = { rough: modelNetwork(models.rough, { ownsModel: true }), fine: modelNetwork(models.fine, { ownsModel: true }) };
      post({ type: 'models', info: models.info, loadMs: performance.now() - t0 });
      return;
    }
    case 'run':
      await run(request.dropPolicy);
      return;
  }
}

async function run(dropPolicy: DropPolicy): Promise<void> {
  if (!image) throw new Error('no image is open; open a PNG, JPEG or TIFF image first');
  if (!models || !networks) throw new Error('no model pair is loaded; choose a bundled pair or load your own model files first');
  running?.abort();
  const controller = new AbortController();
  running = controller;
  const { size, channels } = models.info;
  const input = channels === 1 ? luminance(image) : image;
  const t0 = performance.now();
  const metadata = (models.rough.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  const result = await streamingSegmentThenSegment(rasterImageSource(input), {
    size,
    rough: yielding(networks.rough, controller.signal),
    fine: yielding(networks.fine, controller.signal),
    ...roughPassOfModel(metadata),
    dropPolicy,
    batchSize: FINE_BATCH,
    signal: controller.signal,
    onProgress: (progress) => post({ type: 'progress', progress }),
  });
  const { width, height } = result;
  const objects = [...detectObjects(result, width, height)];
  const ms = performance.now() - t0;
  const sts = renderRegion(result, { left: 0, top: 0, width, height }).data;
  const baseline = upsampleRough(result.roughMask, width, height).data;
  post({ type: 'result', sts, baseline, boxes: [...result.boxes], objects, width, height, ms }, [sts.buffer, baseline.buffer]);
}

/** Yields to the event loop before each network call, so that a `cancel` message is handled mid-run. */
function yielding(network: SegmentationNetwork, signal: AbortSignal): SegmentationNetwork {
  return async (inputs) => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    signal.throwIfAborted();
    return network(inputs);
  };
}

/** For one-channel models: Rec. 601 luma, as OpenCV's gray conversion (libvips' differs by at most a level or two). */
function luminance(rgb: Raster<Uint8Array>): Raster<Uint8Array> {
  const n = rgb.width * rgb.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(0.299 * rgb.data[i * 3] + 0.587 * rgb.data[i * 3 + 1] + 0.114 * rgb.data[i * 3 + 2]);
  return { width: rgb.width, height: rgb.height, channels: 1, data: out };
}
