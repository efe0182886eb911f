/**
 * A writer of 32-bit unsigned label maps (and of 8-bit masks) as tiled, pyramidal TIFF, from bands of rows: a
 * slide's label map or mask is never held whole. sharp cannot write a label map: its pipeline casts any one-band
 * image to 8 or 16 bits, and its pyramids average (libvips' `region_shrink`, which would invent labels, is not exposed); checked with sharp 0.35.5 /
 * libvips 8.18. QuPath and Fiji (Bio-Formats), napari (tifffile), libvips and geotiff.js read this one.
 *
 * The file is a one-image OME-TIFF: full resolution in the first directory, whose ImageDescription holds a minimal
 * OME-XML, and the reduced levels (each half the one before, made by nearest: the top-left pixel of each 2 x 2, so
 * a level's pixel is always a label of the full image, never an average) as its SubIFDs, the pyramid layout
 * Bio-Formats and tifffile read as resolutions, while readers that know no pyramids see the full image alone.
 * Levels are added until one fits in a tile. One band, `SampleFormat` unsigned, tiles deflate-compressed after
 * horizontal differencing (`Predictor` 2), which turns the long runs of one label into zeros. Tiles are compressed
 * and written as soon as their rows are in, so the memory is about two bands of `tile` rows; the directories go at
 * the end, so whether the file needs BigTIFF (64-bit offsets, past 4 GiB) is decided from its real size.
 */
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { deflateSync } from 'node:zlib';
import { ArgumentError } from '../errors.js';
import type { LabelArray } from '../geometry/label-map.js';

export interface LabelTiffOptions {
  /** Tile side in pixels, a multiple of 16 (TIFF's rule). Default 256. */
  readonly tile?: number;
  /** Force BigTIFF (default: only when the file passes 4 GiB). */
  readonly bigTiff?: boolean;
  /** Size of a pixel in micrometres, written into the OME-XML so that viewers measure in µm. */
  readonly pixelSizeUm?: number;
  /**
   * Bits per pixel: 32 (labels, the default) or 8 (a mask: `sts predict`'s mask.tif, whose bands libvips joined
   * with about 1 GB of memory for a 40,000-pixel slide; see docs/results/nuclei-instances/slides.md).
   */
  readonly bits?: 8 | 32;
  /** The image's name in the OME-XML. Default `labels`. */
  readonly name?: string;
  /** Reduced levels as SubIFDs (default true); false writes the full resolution alone. */
  readonly pyramid?: boolean;
}

/** Rows `top .. top + rows - 1` of the label map (width x rows labels, row-major; bytes for an 8-bit mask). */
export type LabelBandRenderer = (top: number, rows: number) => LabelArray | Uint8Array | Promise<LabelArray | Uint8Array>;

const ASCII = 2;
const SHORT = 3;
const LONG = 4;
const LONG8 = 16;
const LITTLE_ENDIAN = endianness() === 'LE';

/** One pyramid level being written: its size, the tile row being filled, and where its tiles went. */
interface Level {
  readonly width: number;
  readonly height: number;
  /** 2^level: the level's pixel (x, y) is the full image's (x * step, y * step). */
  readonly step: number;
  readonly across: number;
  /** The tile row being filled: across tiles side by side, tile rows high. */
  readonly rows: Uint32Array | Uint8Array;
  readonly offsets: number[];
  readonly counts: number[];
}

/**
 * Writes the `width` x `height` label map (labels 0 .. 2^32 - 1) that `render` gives band by band (called in order,
 * `tile` rows at a time, the last band shorter) to `path`, which should be a temporary name.
 */
export async function writeLabelTiffFile(path: string, width: number, height: number, render: LabelBandRenderer, { tile = 256, bigTiff, pixelSizeUm, bits = 32, name = 'labels', pyramid = true }: LabelTiffOptions = {}): Promise<void> {
  if (!Number.isInteger(tile) || tile <= 0 || tile % 16 !== 0) throw new ArgumentError('tile', `must be a positive multiple of 16, got ${tile}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw new ArgumentError('size', `must be positive whole numbers, got ${width} x ${height}`);
  const levels: Level[] = [];
  for (let w = width, h = height, step = 1; ; w = Math.ceil(w / 2), h = Math.ceil(h / 2), step *= 2) {
    const across = Math.ceil(w / tile);
    const rows = bits === 8 ? new Uint8Array(across * tile * tile) : new Uint32Array(across * tile * tile);
    levels.push({ width: w, height: h, step, across, rows, offsets: [], counts: [] });
    if (!pyramid || (w <= tile && h <= tile)) break;
  }

  const file = await open(path, 'w');
  try {
    // Tiles start after the larger (BigTIFF) header; a classic header leaves 8 unused bytes.
    let at = 16;
    const write = async (bytes: Uint8Array): Promise<number> => {
      const where = at;
      await file.write(bytes, 0, bytes.length, where);
      at += bytes.length;
      if (at % 2) at++; // TIFF wants word-aligned offsets
      return where;
    };
    // A level's tile row is full (or the level ends): each tile is differenced, compressed and written.
    const tileBuffer = bits === 8 ? new Uint8Array(tile * tile) : new Uint32Array(tile * tile);
    const modulo = bits === 8 ? 0xff : 0xffffffff;
    const flush = async (level: Level) => {
      const stride = level.across * tile;
      for (let tx = 0; tx < level.across; tx++) {
        for (let y = 0; y < tile; y++) {
          const row = y * tile;
          tileBuffer.set(level.rows.subarray(y * stride + tx * tile, y * stride + tx * tile + tile), row);
          // Predictor 2: each sample minus the one to its left, modulo 2^bits (right to left, so in place; the typed
          // array wraps, the mask keeps the value in range for 32 bits too).
          for (let x = tile - 1; x > 0; x--) tileBuffer[row + x] = (tileBuffer[row + x] - tileBuffer[row + x - 1]) & modulo;
        }
        const compressed = deflateSync(tileBuffer instanceof Uint8Array ? tileBuffer : littleEndianBytes(tileBuffer));
        level.offsets.push(await write(compressed));
        level.counts.push(compressed.length);
      }
      level.rows.fill(0);
    };

    for (let top = 0; top < height; top += tile) {
      const rows = Math.min(tile, height - top);
      const band = await render(top, rows);
      if (band.length !== width * rows) throw new ArgumentError('render', `gave ${band.length} labels for rows ${top}..${top + rows - 1} of a map ${width} wide (${width * rows} expected)`);
      for (const level of levels) {
        const { step, width: w, height: h, across } = level;
        const stride = across * tile;
        for (let y = top + ((step - (top % step)) % step); y < top + rows; y += step) {
          const ly = y / step;
          const r = ly % tile;
          const src = (y - top) * width;
          const dst = r * stride;
          for (let x = 0; x < w; x++) level.rows[dst + x] = band[src + x * step];
          if (r === tile - 1 || ly === h - 1) await flush(level);
        }
      }
    }

    const big = bigTiff ?? at + 4096 + levels.reduce((s, l) => s + l.offsets.length * 16, 0) >= 2 ** 32;
    const inline = big ? 8 : 4;
    const size = (type: number) => (type === SHORT ? 2 : type === LONG ? 4 : type === ASCII ? 1 : 8);
    const encode = (type: number, values: readonly number[] | Uint8Array) => {
      const out = Buffer.alloc(Math.max(inline, values.length * size(type)));
      if (type === ASCII) out.set(values as Uint8Array);
      else
        (values as readonly number[]).forEach((v, i) => {
          if (type === SHORT) out.writeUInt16LE(v, i * 2);
          else if (type === LONG) out.writeUInt32LE(v, i * 4);
          else out.writeBigUInt64LE(BigInt(v), i * 8);
        });
      return out;
    };
    type Entry = [tag: number, type: number, values: readonly number[] | Uint8Array];
    // One directory: arrays that do not fit in an entry go before it; returns its offset. Tags in ascending order.
    const writeIfd = async (entries: Entry[]): Promise<number> => {
      entries.sort((a, b) => a[0] - b[0]);
      const valueAt: (number | undefined)[] = [];
      for (const [, type, values] of entries) {
        const bytes = encode(type, values);
        valueAt.push(bytes.length > inline ? await write(bytes) : undefined);
      }
      const entrySize = big ? 20 : 12;
      const ifd = Buffer.alloc((big ? 8 : 2) + entries.length * entrySize + (big ? 8 : 4));
      if (big) ifd.writeBigUInt64LE(BigInt(entries.length), 0);
      else ifd.writeUInt16LE(entries.length, 0);
      let o = big ? 8 : 2;
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
      // The next-directory offset stays 0: one image (the levels hang off it as SubIFDs).
      if (!big && at + ifd.length >= 2 ** 32) throw new Error('the file passed 4 GiB; write it as BigTIFF');
      return write(ifd);
    };
    const image = (level: Level, reduced: boolean): Entry[] => [
      [254, LONG, [reduced ? 1 : 0]], // NewSubfileType: 1 = a reduced-resolution copy
      [256, LONG, [level.width]],
      [257, LONG, [level.height]],
      [258, SHORT, [bits]], // BitsPerSample
      [259, SHORT, [8]], // Compression: deflate (zlib)
      [262, SHORT, [1]], // PhotometricInterpretation: black is zero
      [277, SHORT, [1]], // SamplesPerPixel
      [284, SHORT, [1]], // PlanarConfiguration: contiguous
      [317, SHORT, [2]], // Predictor: horizontal differencing
      [322, LONG, [tile]], // TileWidth
      [323, LONG, [tile]], // TileLength
      [324, big ? LONG8 : LONG, level.offsets], // TileOffsets
      [325, big ? LONG8 : LONG, level.counts], // TileByteCounts
      [339, SHORT, [1]], // SampleFormat: unsigned integer
    ];
    const subIfds: number[] = [];
    for (const level of levels.slice(1)) subIfds.push(await writeIfd(image(level, true)));
    const description = new TextEncoder().encode(`${omeXml(width, height, bits, name, pixelSizeUm)}\0`);
    const ifdAt = await writeIfd([
      ...image(levels[0], false),
      [270, ASCII, description], // ImageDescription: OME-XML
      ...(subIfds.length > 0 ? ([[330, big ? LONG8 : LONG, subIfds]] as Entry[]) : []), // SubIFDs: the reduced levels
    ]);

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

/**
 * The OME-XML of one uint32 (or uint8) plane stored in this file's first directory (what makes Bio-Formats see
 * the levels).
 * Physical sizes are in the schema's default unit, micrometres; the text stays ASCII, as the tag's type says.
 */
function omeXml(width: number, height: number, bits: 8 | 32, name: string, pixelSizeUm?: number): string {
  const physical = pixelSizeUm && pixelSizeUm > 0 ? ` PhysicalSizeX="${pixelSizeUm}" PhysicalSizeY="${pixelSizeUm}"` : '';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
    'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd" Creator="segment-then-segment">' +
    `<Image ID="Image:0" Name="${name}">` +
    `<Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint${bits}" SizeX="${width}" SizeY="${height}" SizeC="1" SizeZ="1" SizeT="1" BigEndian="false" Interleaved="false"${physical}>` +
    `<Channel ID="Channel:0:0" Name="${name}" SamplesPerPixel="1">` + '<LightPath/></Channel>' +
    '<TiffData FirstC="0" FirstT="0" FirstZ="0" IFD="0" PlaneCount="1"/>' +
    '</Pixels></Image></OME>'
  );
}

function littleEndianBytes(values: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const out = new Uint8Array(bytes.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, values[i], true);
  return out;
}
