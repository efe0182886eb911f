/**
 * The page's handle on the Segment-then-Segment worker. A cancel is first asked politely (the worker stops between
 * network calls); a worker that has not stopped within a grace period, or that died, is replaced by a fresh one
 * that is given the same backend, image and models again, so the page never waits on a hung worker.
 */
import type { BackendChoice, ModelSource, Reply, Request } from '../worker/protocol.js';

const CANCEL_GRACE_MS = 3000;

export class WorkerClient {
  private worker!: Worker;
  private lastImage: File | undefined;
  private lastModels: ModelSource | undefined;
  private cancelTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly backend: BackendChoice,
    private readonly onReply: (reply: Reply) => void,
  ) {
    this.spawn();
  }

  open(file: File): void {
    this.lastImage = file;
    this.send({ type: 'open', file });
  }

  loadModels(source: ModelSource): void {
    this.lastModels = source;
    this.send({ type: 'models', source });
  }

  run(request: Extract<Request, { type: 'run' }>): void {
    this.send(request);
  }

  cancel(): void {
    this.send({ type: 'cancel' });
    clearTimeout(this.cancelTimer);
    this.cancelTimer = setTimeout(() => {
      this.respawn();
      this.onReply({ type: 'cancelled' });
    }, CANCEL_GRACE_MS);
  }

  private spawn(): void {
    this.worker = new Worker(new URL('../worker/sts-worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = ({ data }: MessageEvent<Reply>) => {
      if (data.type === 'result' || data.type === 'cancelled' || data.type === 'error') clearTimeout(this.cancelTimer);
      this.onReply(data);
    };
    // A worker that fails to load or throws outside a request would otherwise leave the page waiting forever.
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.onReply({ type: 'error', step: 'init', message: `the segmentation worker failed (${event.message || 'it could not be loaded'}); reload the page` });
    };
    this.send({ type: 'init', backend: this.backend });
  }

  private respawn(): void {
    this.worker.terminate();
    this.spawn();
    if (this.lastImage) this.open(this.lastImage);
    if (this.lastModels) this.loadModels(this.lastModels);
  }

  private send(request: Request): void {
    this.worker.postMessage(request);
  }
}
