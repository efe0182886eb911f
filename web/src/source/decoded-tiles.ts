/**
 * A bounded cache of decoded TIFF tiles, least recently used first out. geotiff.js decodes every tile a window meets
 * on every read (its own cache, `cache: true`, keeps every tile of the file forever), and the pipeline reads one small
 * window per crop, neighbours sharing tiles: without a cache each 256 x 256 tile was inflated again for each of the
 * crops in it (a tenth of the page's worker time on a slide). Entries are promises, so two reads of one tile at once
 * decode it once; a failed decode is not kept.
 */
export class DecodedTiles<T> {
  private readonly entries = new Map<string, Promise<T>>();
  hits = 0;
  misses = 0;

  /** `capacity` tiles at most (at least 1). */
  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`a tile cache holds at least one tile, not ${capacity}`);
  }

  get(key: string, decode: () => Promise<T>): Promise<T> {
    const cached = this.entries.get(key);
    if (cached) {
      this.hits++;
      // Map keeps insertion order: moving the entry to the end makes the first one the least recently used.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    this.misses++;
    const promise = decode();
    this.entries.set(key, promise);
    promise.catch(() => {
      if (this.entries.get(key) === promise) this.entries.delete(key);
    });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return promise;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The one method of a geotiff.js image the cache stands in front of. */
export interface TileReader<T> {
  getTileOrStrip(x: number, y: number, sample: number, poolOrDecoder: unknown, signal?: AbortSignal): Promise<T>;
}

/**
 * Routes `image`'s tile reads (pyramid level `level`) through `tiles`. The shared decode runs without the asking
 * reader's abort signal: with it, one reader's abort would fail every other reader waiting on the same tile. A reader
 * whose own signal aborts stops waiting at once; the tile's decode finishes for the others (one tile: bounded work).
 */
export function readTilesThrough<T>(image: TileReader<T>, tiles: DecodedTiles<T>, level: number): void {
  const decode = image.getTileOrStrip.bind(image);
  image.getTileOrStrip = (x, y, sample, poolOrDecoder, signal) => {
    const shared = tiles.get(`${level}/${x}/${y}/${sample}`, () => decode(x, y, sample, poolOrDecoder));
    return signal ? untilAborted(shared, signal) : shared;
  };
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}
