/**
 * The page's handles on its workers. The segmentation worker: a cancel is first asked politely (the worker stops
 * before its next network call); a worker that has not stopped within a grace period, or that died, is replaced by
 * a fresh one that is given the same backend, image and models again, so the page never waits on a hung worker.
 * Both workers draw viewer tiles on request (`tile`), answered by id.
 */
import type { BackendChoice, Method, ModelSource, Reply, Request, ViewReply, ViewRequest } from '../worker/protocol.js';
import type { TileGeometry } from './tile-geometry.js';

const CANCEL_GRACE_MS = 3000;

/** Tile requests in flight, answered by id; all failed at once when their worker goes. */
class TileRequests {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (rgba: Uint8ClampedArray) => void; reject: (error: Error) => void }>();

  ask(send: (id: number) => void): Promise<Uint8ClampedArray> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      send(id);
    });
  }

  answer(id: number, rgba: Uint8ClampedArray): void {
    this.waiting.get(id)?.resolve(rgba);
    this.waiting.delete(id);
  }

  failAll(why: string): void {
    for (const w of this.waiting.values()) w.reject(new Error(why));
    this.waiting.clear();
  }
}

export class WorkerClient {
  private worker!: Worker;
  private lastImage: File | undefined;
  private lastModels: ModelSource | undefined;
  private cancelTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly tiles = new TileRequests();
  /** Milliseconds the worker has spent drawing viewer tiles of results, in all: the cost of redrawing the overlay. */
  tileMs = 0;

  constructor(
    private readonly backend: BackendChoice,
    private readonly onReply: (reply: Reply) => void,
    private readonly threads?: number,
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

  objects(method: Method): void {
    this.send({ type: 'objects', method });
  }

  mask(method: Method): void {
    this.send({ type: 'mask', method });
  }

  tile(method: Method, { region, width, height }: TileGeometry): Promise<Uint8ClampedArray> {
    return this.tiles.ask((id) => this.send({ type: 'tile', method, id, region, width, height }));
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
      if (data.type === 'tile') {
        this.tileMs += data.ms;
        return this.tiles.answer(data.id, data.rgba);
      }
      if (data.type === 'result' || data.type === 'cancelled' || (data.type === 'error' && data.step === 'run')) clearTimeout(this.cancelTimer);
      this.onReply(data);
    };
    // A worker that fails to load or throws outside a request would otherwise leave the page waiting forever.
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.onReply({ type: 'error', step: 'init', message: `the segmentation worker failed (${event.message || 'it could not be loaded'}); reload the page` });
    };
    this.send({ type: 'init', backend: this.backend, ...(this.threads ? { threads: this.threads } : {}) });
  }

  private respawn(): void {
    this.worker.terminate();
    this.tiles.failAll('the segmentation worker was restarted');
    this.spawn();
    if (this.lastImage) this.open(this.lastImage);
    if (this.lastModels) this.loadModels(this.lastModels);
  }

  private send(request: Request): void {
    this.worker.postMessage(request);
  }
}

/** The viewer's image tiles worker. */
export class ViewClient {
  private readonly worker: Worker;
  private readonly tiles = new TileRequests();

  constructor(private readonly onReply: (reply: Exclude<ViewReply, { type: 'tile' }>) => void) {
    this.worker = new Worker(new URL('../worker/view-worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = ({ data }: MessageEvent<ViewReply>) => {
      if (data.type === 'tile') this.tiles.answer(data.id, data.rgba);
      else this.onReply(data);
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.tiles.failAll('the viewer worker failed');
      this.onReply({ type: 'error', message: `the viewer's worker failed (${event.message || 'it could not be loaded'}); reload the page` });
    };
  }

  open(file: File): void {
    this.send({ type: 'open', file });
  }

  tile({ region, width, height }: TileGeometry): Promise<Uint8ClampedArray> {
    return this.tiles.ask((id) => this.send({ type: 'tile', id, region, width, height }));
  }

  private send(request: ViewRequest): void {
    this.worker.postMessage(request);
  }
}
