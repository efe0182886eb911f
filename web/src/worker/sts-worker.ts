/**
 * The worker that owns the heavy state (decoded image, models, tensors) so the page stays responsive. It answers
 * every request with a reply or an `error` naming the step, never silence: the page's messages depend on it.
 */
import type { DropPolicy } from '../../../src/geometry/boxes.js';
import type { Raster } from '../../../src/geometry/raster.js';
import { type ModelNetwork, modelNetwork } from '../../../src/pipeline/model-network.js';
import { type SegmentationNetwork, segmentThenSegment, upsampleRough } from '../../../src/pipeline/segment-then-segment.js';
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
  const result = await segmentThenSegment(input, {
    size,
    rough: stepped(networks.rough, 'rough', controller.signal),
    fine: stepped(networks.fine, 'fine', controller.signal),
    dropPolicy,
    signal: controller.signal,
  });
  const ms = performance.now() - t0;
  const baseline = upsampleRough(result.rough, image.width, image.height).data;
  const sts = result.mask.data;
  post({ type: 'result', sts, baseline, boxes: result.boxes, width: image.width, height: image.height, ms }, [sts.buffer, baseline.buffer]);
}

/**
 * Runs a network a few inputs at a time, reporting progress and yielding to the event loop between calls so that
 * a `cancel` message is handled mid-run, not after the last crop.
 */
function stepped(network: SegmentationNetwork, stage: 'rough' | 'fine', signal: AbortSignal): SegmentationNetwork {
  return async (inputs) => {
    const outputs: ArrayLike<number>[] = [];
    post({ type: 'progress', stage, done: 0, total: inputs.length });
    for (let start = 0; start < inputs.length; start += FINE_BATCH) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      signal.throwIfAborted();
      outputs.push(...(await network(inputs.slice(start, start + FINE_BATCH))));
      post({ type: 'progress', stage, done: Math.min(start + FINE_BATCH, inputs.length), total: inputs.length });
    }
    return outputs;
  };
}

/** For one-channel models: Rec. 601 luma, as OpenCV's gray conversion (libvips' differs by at most a level or two). */
function luminance(rgb: Raster<Uint8Array>): Raster<Uint8Array> {
  const n = rgb.width * rgb.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(0.299 * rgb.data[i * 3] + 0.587 * rgb.data[i * 3 + 1] + 0.114 * rgb.data[i * 3 + 2]);
  return { width: rgb.width, height: rgb.height, channels: 1, data: out };
}
