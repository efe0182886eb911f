/**
 * geotiff.js's byte source over a `Blob` (a `File` the user picked): each range is `blob.slice(...).arrayBuffer()`,
 * so only the bytes asked for are ever read. Written for the modern Blob API rather than geotiff.js's own
 * FileReader source, so that the same code runs in a page, a worker and Node (`fs.openAsBlob`), and is tested there.
 */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

export interface ByteSource {
  fetch(ranges: readonly ByteRange[], signal?: AbortSignal): Promise<ArrayBuffer[]>;
  readonly fileSize: number;
  close(): Promise<void>;
}

export function blobByteSource(blob: Blob): ByteSource {
  return {
    fetch: (ranges, signal) =>
      Promise.all(
        ranges.map(async ({ offset, length }) => {
          signal?.throwIfAborted();
          return blob.slice(offset, offset + length).arrayBuffer();
        }),
      ),
    get fileSize() {
      return blob.size;
    },
    close: async () => {},
  };
}
