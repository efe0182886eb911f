/**
 * A minimal TIFF writer for tests: uncompressed, little-endian, tiled, 8, 16 or 32 bits, unsigned, signed or float
 * samples, the exact samples given; optionally reduced copies as OME-style sub-IFDs (tag 330) of the first image,
 * further images in the IFD chain (pages, as OME-TIFF stores its series) and an ImageDescription (OME-XML): what
 * sharp cannot write.
 */
export interface TiffImage {
  readonly width: number;
  readonly height: number;
  readonly samples: number;
  readonly bits: 8 | 16 | 32;
  /** Interleaved samples, width x height x samples. */
  readonly data: Uint8Array | Uint16Array | Int16Array | Float32Array;
  /** SampleFormat: 1 unsigned (default), 2 signed, 3 IEEE float. */
  readonly sampleFormat?: 1 | 2 | 3;
  /** PhotometricInterpretation; default black-is-zero gray (1) or RGB (2) by the samples. */
  readonly photometric?: number;
}

interface Entry { tag: number; type: number; values: number[] }

const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;

const ASCII = 2;

export interface WriteTiffOptions {
  readonly subIfds?: readonly TiffImage[];
  /** Further images after the first in the IFD chain (TIFF pages). */
  readonly pages?: readonly TiffImage[];
  readonly tile?: number;
  readonly xResolutionPerCm?: number;
  /** ImageDescription (tag 270) of the first image, e.g. OME-XML. */
  readonly description?: string;
}

export function writeTiff(main: TiffImage, { subIfds = [], pages = [], tile = 64, xResolutionPerCm, description }: WriteTiffOptions = {}): Buffer {
  const chunks: Buffer[] = [];
  let size = 8;
  const append = (b: Buffer) => {
    const at = size;
    chunks.push(b);
    size += b.length;
    if (size % 2) {
      chunks.push(Buffer.alloc(1));
      size += 1;
    }
    return at;
  };
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  chunks.push(header);

  const tilesOf = (im: TiffImage) => {
    const bps = im.bits / 8;
    const offsets: number[] = [];
    const counts: number[] = [];
    for (let ty = 0; ty < im.height; ty += tile) {
      for (let tx = 0; tx < im.width; tx += tile) {
        const buf = Buffer.alloc(tile * tile * im.samples * bps);
        for (let y = 0; y < tile && ty + y < im.height; y++) {
          for (let x = 0; x < tile && tx + x < im.width; x++) {
            for (let c = 0; c < im.samples; c++) {
              const v = im.data[((ty + y) * im.width + tx + x) * im.samples + c];
              const o = ((y * tile + x) * im.samples + c) * bps;
              if (im.sampleFormat === 3) buf.writeFloatLE(v, o);
              else if (bps === 1) buf[o] = v;
              else if (bps === 2) buf[im.sampleFormat === 2 ? 'writeInt16LE' : 'writeUInt16LE'](v, o);
              else buf[im.sampleFormat === 2 ? 'writeInt32LE' : 'writeUInt32LE'](v, o);
            }
          }
        }
        offsets.push(append(buf));
        counts.push(buf.length);
      }
    }
    return { offsets, counts };
  };

  const entriesOf = (im: TiffImage, reduced: boolean): Entry[] => {
    const { offsets, counts } = tilesOf(im);
    return [
      { tag: 254, type: LONG, values: [reduced ? 1 : 0] },
      { tag: 256, type: LONG, values: [im.width] },
      { tag: 257, type: LONG, values: [im.height] },
      { tag: 258, type: SHORT, values: Array(im.samples).fill(im.bits) },
      { tag: 259, type: SHORT, values: [1] },
      { tag: 262, type: SHORT, values: [im.photometric ?? (im.samples >= 3 ? 2 : 1)] },
      { tag: 277, type: SHORT, values: [im.samples] },
      { tag: 284, type: SHORT, values: [1] },
      { tag: 322, type: SHORT, values: [tile] },
      { tag: 323, type: SHORT, values: [tile] },
      { tag: 324, type: LONG, values: offsets },
      { tag: 325, type: LONG, values: counts },
      ...(im.samples === 2 || im.samples === 4 ? [{ tag: 338, type: SHORT, values: [2] }] : []),
      ...(im.sampleFormat ? [{ tag: 339, type: SHORT, values: Array(im.samples).fill(im.sampleFormat) }] : []),
    ];
  };

  /** Writes a directory; returns where it is and the directory itself, whose last 4 bytes point to the next one. */
  const writeIfd = (entries: Entry[]): { at: number; ifd: Buffer } => {
    entries.sort((a, b) => a.tag - b.tag);
    const sizeOf = (e: Entry) => (e.type === ASCII ? 1 : e.type === SHORT ? 2 : e.type === RATIONAL ? 8 : 4) * (e.type === RATIONAL ? e.values.length / 2 : e.values.length);
    // Values that do not fit in the entry go first, then the directory.
    const where = entries.map((e) => {
      if (sizeOf(e) <= 4) return -1;
      const b = Buffer.alloc(sizeOf(e));
      e.values.forEach((v, i) => (e.type === ASCII ? b.writeUInt8(v, i) : e.type === SHORT ? b.writeUInt16LE(v, i * 2) : b.writeUInt32LE(v, i * 4)));
      return append(b);
    });
    const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
    ifd.writeUInt16LE(entries.length, 0);
    entries.forEach((e, i) => {
      const at = 2 + i * 12;
      ifd.writeUInt16LE(e.tag, at);
      ifd.writeUInt16LE(e.type, at + 2);
      ifd.writeUInt32LE(e.type === RATIONAL ? e.values.length / 2 : e.values.length, at + 4);
      if (where[i] >= 0) ifd.writeUInt32LE(where[i], at + 8);
      else e.values.forEach((v, k) => (e.type === ASCII ? ifd.writeUInt8(v, at + 8 + k) : e.type === SHORT ? ifd.writeUInt16LE(v, at + 8 + k * 2) : ifd.writeUInt32LE(v, at + 8)));
    });
    return { at: append(ifd), ifd };
  };

  const subOffsets = subIfds.map((im) => writeIfd(entriesOf(im, true)).at);
  const mainEntries = entriesOf(main, false);
  if (subOffsets.length) mainEntries.push({ tag: 330, type: LONG, values: subOffsets });
  if (xResolutionPerCm) {
    mainEntries.push({ tag: 282, type: RATIONAL, values: [Math.round(xResolutionPerCm * 1000), 1000] });
    mainEntries.push({ tag: 283, type: RATIONAL, values: [Math.round(xResolutionPerCm * 1000), 1000] });
    mainEntries.push({ tag: 296, type: SHORT, values: [3] });
  }
  if (description !== undefined) mainEntries.push({ tag: 270, type: ASCII, values: [...Buffer.from(`${description}\0`, 'utf8')] });
  const first = writeIfd(mainEntries);
  header.writeUInt32LE(first.at, 4);
  let previous = first.ifd;
  for (const page of pages) {
    const next = writeIfd(entriesOf(page, false));
    previous.writeUInt32LE(next.at, previous.length - 4);
    previous = next.ifd;
  }
  return Buffer.concat(chunks);
}
