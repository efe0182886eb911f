/**
 * A writer of 32-bit unsigned label maps as tiled TIFF: sharp cannot write one (its pipeline casts any
 * non-8-bit one-band image to 16 bits), while libvips, QuPath, Fiji, napari and geotiff.js read it. One band,
 * `SampleFormat` unsigned, tiles deflate-compressed after horizontal differencing (`Predictor` 2), which turns the
 * long runs of one label into zeros. Tiles are compressed and written one at a time, so the memory beyond the label
 * map itself is one tile. A file that could pass 4 GiB is written as BigTIFF (64-bit offsets).
 * Not yet pyramidal: the reduced levels a slide viewer wants are a later step.
 */
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { deflateSync } from 'node:zlib';
import { ArgumentError } from '../errors.js';
import type { LabelMap } from '../geometry/label-map.js';

export interface LabelTiffOptions {
  /** Tile side in pixels, a multiple of 16 (TIFF's rule). Default 256. */
  readonly tile?: number;
  /** Force BigTIFF (default: only when the file could pass 4 GiB). */
  readonly bigTiff?: boolean;
}

const SHORT = 3;
const LONG = 4;
const LONG8 = 16;
const LITTLE_ENDIAN = endianness() === 'LE';

/** Writes `map` (labels 0 .. 2^32 - 1) to `path` as a tiled 32-bit TIFF; `path` should be a temporary name. */
export async function writeLabelTiffFile(path: string, map: LabelMap, { tile = 256, bigTiff }: LabelTiffOptions = {}): Promise<void> {
  if (!Number.isInteger(tile) || tile <= 0 || tile % 16 !== 0) throw new ArgumentError('tile', `must be a positive multiple of 16, got ${tile}`);
  const { width: W, height: H, data } = map;
  const across = Math.ceil(W / tile);
  const down = Math.ceil(H / tile);
  const tiles = across * down;
  const tileBytes = tile * tile * 4;
  // Deflate adds at most a few bytes per 16 KiB block; the bound decides the format before anything is written.
  const big = bigTiff ?? 16 + tiles * (tileBytes + tileBytes / 1000 + 64) + tiles * 16 + 4096 >= 2 ** 32;

  const file = await open(path, 'w');
  try {
    let at = big ? 16 : 8; // after the header
    const write = async (bytes: Uint8Array): Promise<number> => {
      const where = at;
      await file.write(bytes, 0, bytes.length, where);
      at += bytes.length;
      if (at % 2) at++; // TIFF wants word-aligned offsets
      return where;
    };
    const offsets: number[] = [];
    const counts: number[] = [];
    const buffer = new Uint32Array(tile * tile);
    for (let ty = 0; ty < down; ty++) {
      for (let tx = 0; tx < across; tx++) {
        buffer.fill(0);
        const x0 = tx * tile;
        const w = Math.min(tile, W - x0);
        for (let y = 0; y < tile && ty * tile + y < H; y++) {
          const src = (ty * tile + y) * W + x0;
          const row = y * tile;
          for (let x = 0; x < w; x++) buffer[row + x] = data[src + x];
          // Predictor 2: each sample minus the one to its left, modulo 2^32 (right to left, so in place).
          for (let x = tile - 1; x > 0; x--) buffer[row + x] = (buffer[row + x] - buffer[row + x - 1]) >>> 0;
        }
        const compressed = deflateSync(littleEndianBytes(buffer));
        offsets.push(await write(compressed));
        counts.push(compressed.length);
      }
    }

    const entries: [tag: number, type: number, values: readonly number[]][] = [
      [256, LONG, [W]],
      [257, LONG, [H]],
      [258, SHORT, [32]], // BitsPerSample
      [259, SHORT, [8]], // Compression: deflate (zlib)
      [262, SHORT, [1]], // PhotometricInterpretation: black is zero
      [277, SHORT, [1]], // SamplesPerPixel
      [284, SHORT, [1]], // PlanarConfiguration: contiguous
      [317, SHORT, [2]], // Predictor: horizontal differencing
      [322, LONG, [tile]], // TileWidth
      [323, LONG, [tile]], // TileLength
      [324, big ? LONG8 : LONG, offsets], // TileOffsets
      [325, big ? LONG8 : LONG, counts], // TileByteCounts
      [339, SHORT, [1]], // SampleFormat: unsigned integer
    ];
    const inline = big ? 8 : 4;
    const size = (type: number) => (type === SHORT ? 2 : type === LONG ? 4 : 8);
    const encode = (type: number, values: readonly number[]) => {
      const out = Buffer.alloc(Math.max(inline, values.length * size(type)));
      values.forEach((v, i) => {
        if (type === SHORT) out.writeUInt16LE(v, i * 2);
        else if (type === LONG) out.writeUInt32LE(v, i * 4);
        else out.writeBigUInt64LE(BigInt(v), i * 8);
      });
      return out;
    };
    // Arrays that do not fit in an entry go before the directory.
    const valueAt: (number | undefined)[] = [];
    for (const [, type, values] of entries) {
      const bytes = encode(type, values);
      valueAt.push(bytes.length > inline ? await write(bytes) : undefined);
    }
    const entrySize = big ? 20 : 12;
    const ifd = Buffer.alloc((big ? 8 : 2) + entries.length * entrySize + (big ? 8 : 4));
    let o = 0;
    if (big) ifd.writeBigUInt64LE(BigInt(entries.length), 0);
    else ifd.writeUInt16LE(entries.length, 0);
    o = big ? 8 : 2;
    entries.forEach(([tag, type, values], k) => {
      ifd.writeUInt16LE(tag, o);
      ifd.writeUInt16LE(type, o + 2);
      if (big) ifd.writeBigUInt64LE(BigInt(values.length), o + 4);
      else ifd.writeUInt32LE(values.length, o + 4);
      const where = valueAt[k];
      const field = where === undefined ? encode(type, values) : encode(big ? LONG8 : LONG, [where]);
      field.copy(ifd, o + (big ? 12 : 8), 0, inline);
      o += entrySize;
    });
    // The next-directory offset stays 0: one image.
    if (!big && at + ifd.length >= 2 ** 32) throw new Error('the file passed 4 GiB; write it as BigTIFF');
    const ifdAt = await write(ifd);

    const header = Buffer.alloc(big ? 16 : 8);
    header.write('II', 0, 'latin1');
    if (big) {
      header.writeUInt16LE(43, 2);
      header.writeUInt16LE(8, 4);
      header.writeBigUInt64LE(BigInt(ifdAt), 8);
    } else {
      header.writeUInt16LE(42, 2);
      header.writeUInt32LE(ifdAt, 4);
    }
    await file.write(header, 0, header.length, 0);
  } finally {
    await file.close();
  }
}

function littleEndianBytes(values: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const out = new Uint8Array(bytes.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, values[i], true);
  return out;
}
