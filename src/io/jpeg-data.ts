/**
 * Whether a sequential JPEG's compressed data holds exactly the image its header declares: the check libjpeg makes
 * only when it finishes a file ("Corrupt JPEG data: N extraneous bytes before marker 0xd9"), which libvips never
 * asks for, so its fail-on-warning misses it. Bytes overwritten mid-file (zeroed, say) still decode into blocks;
 * the decoder then runs out of blocks before the data ends, and everything after the damage is garbage that
 * decodes without an error. Walking the Huffman codes block by block finds where the image's last block ends;
 * a valid file has its next marker right there.
 *
 * Covers baseline and extended sequential Huffman JPEGs (nearly every camera, scanner and library writes these),
 * restart intervals included. Progressive JPEGs are read whole by libjpeg before any pixel comes out, so libvips
 * sees their warnings and refuses them itself; arithmetic-coded and lossless JPEGs are left to libvips too.
 * Platform-free: bytes in, a problem (or nothing) out.
 */

/** What is wrong with a JPEG's compressed data, in libjpeg's words where it has them; undefined when nothing is. */
export async function jpegDataProblem(bytes: Uint8Array): Promise<string | undefined> {
  // The walk yields after each row of blocks; a large file gives the event loop a turn every few milliseconds
  // (Ctrl-C, a queue lock's renewal) instead of blocking it for the whole walk.
  const walk = walkJpeg(bytes);
  let turn = Date.now();
  for (;;) {
    const step = walk.next();
    if (step.done) return step.value;
    if (Date.now() - turn > 20) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      turn = Date.now();
    }
  }
}

interface Component {
  readonly id: number;
  readonly h: number;
  readonly v: number;
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DHT = 0xc4;
const DRI = 0xdd;
const RST0 = 0xd0;

/** A Huffman table as a 16-bit lookup: entry = code length << 8 | symbol, 0 where no code starts with those bits. */
function huffmanLookup(counts: Uint8Array, symbols: Uint8Array): Uint16Array | undefined {
  const lookup = new Uint16Array(65536);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    for (let i = 0; i < counts[length - 1]; i++) {
      if (code >= 1 << length) return undefined; // more codes than the length allows: a bad table
      const shift = 16 - length;
      lookup.fill((length << 8) | symbols[k++], code << shift, (code + 1) << shift);
      code++;
    }
    code <<= 1;
  }
  return lookup;
}

function* walkJpeg(bytes: Uint8Array): Generator<void, string | undefined> {
  const n = bytes.length;
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) return undefined; // not a JPEG: sharp names what it is
  const dc: (Uint16Array | undefined)[] = [];
  const ac: (Uint16Array | undefined)[] = [];
  let frame: { width: number; height: number; components: Component[]; hmax: number; vmax: number } | undefined;
  let restartInterval = 0;
  let pos = 2;
  for (;;) {
    const next = nextMarker(bytes, pos);
    if (next.marker < 0) return 'the file ends before its end-of-image marker (it is incomplete)';
    const { marker, stray } = next;
    pos = next.after;
    if (stray > 0) return `Corrupt JPEG data: ${stray} extraneous bytes before marker 0x${marker.toString(16)}`;
    if (marker === EOI) return undefined;
    if ((marker >= RST0 && marker <= RST0 + 7) || marker === 0x01) continue; // markers without a segment
    if (pos + 2 > n) return 'the file ends inside a marker segment (it is incomplete)';
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    const end = pos + length;
    if (length < 2 || end > n) return 'the file ends inside a marker segment (it is incomplete)';
    const seg = bytes.subarray(pos + 2, end);
    pos = end;
    if (marker === 0xc0 || marker === 0xc1) {
      const count = seg[5];
      if (seg.length < 6 + 3 * count) return undefined; // a malformed frame: libvips refuses it itself
      const components: Component[] = [];
      for (let i = 0; i < count; i++) components.push({ id: seg[6 + 3 * i], h: seg[7 + 3 * i] >> 4, v: seg[7 + 3 * i] & 15 });
      const height = (seg[1] << 8) | seg[2];
      const width = (seg[3] << 8) | seg[4];
      // A height given later (DNL) or a malformed frame: libvips checks those itself.
      if (!height || !width || !count || components.some((c) => c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4)) return undefined;
      frame = { width, height, components, hmax: Math.max(...components.map((c) => c.h)), vmax: Math.max(...components.map((c) => c.v)) };
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== DHT && marker !== 0xc8 && marker !== 0xcc) {
      return undefined; // progressive, lossless or arithmetic-coded: left to libvips (see above)
    } else if (marker === DHT) {
      for (let at = 0; at + 17 <= seg.length; ) {
        const cls = seg[at] >> 4;
        const id = seg[at] & 15;
        const counts = seg.subarray(at + 1, at + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        if (at + 17 + total > seg.length) break; // a malformed table: libvips refuses it itself
        const table = huffmanLookup(counts, seg.subarray(at + 17, at + 17 + total));
        (cls === 0 ? dc : ac)[id] = table;
        at += 17 + total;
      }
    } else if (marker === DRI) {
      restartInterval = (seg[0] << 8) | seg[1];
    } else if (marker === SOS) {
      if (!frame) return undefined;
      const count = seg[0];
      if (!count || seg.length < 1 + 2 * count) return undefined;
      const scan: { c: Component; dc?: Uint16Array; ac?: Uint16Array }[] = [];
      for (let i = 0; i < count; i++) {
        const c = frame.components.find((f) => f.id === seg[1 + 2 * i]);
        if (!c) return undefined;
        scan.push({ c, dc: dc[seg[2 + 2 * i] >> 4], ac: ac[seg[2 + 2 * i] & 15] });
      }
      if (scan.some((s) => !s.dc || !s.ac)) return undefined; // a missing table: libvips says so
      const result = yield* walkScan(bytes, pos, frame, scan as { c: Component; dc: Uint16Array; ac: Uint16Array }[], restartInterval);
      if (typeof result === 'string') return result;
      pos = result;
    }
  }
}

/** Where the Huffman decoding of a scan stands. */
interface BitState {
  /** The next byte to load. */
  pos: number;
  /** Loaded bits, the last `bits` of them not yet consumed. */
  acc: number;
  bits: number;
  /** Zero bits made up after a marker or the file's end, as libjpeg makes them; the last ones loaded. */
  madeUp: number;
  /** Where the marker that ended the data lies, once loading reached it (-1 before). */
  markerAt: number;
}

/** Loads bytes until more than 24 bits are unconsumed: stuffed 0xff 0x00 as 0xff, zeros after a marker. */
function fill(bytes: Uint8Array, s: BitState): void {
  const n = bytes.length;
  while (s.bits <= 24) {
    let byte = -1;
    if (s.markerAt < 0) {
      const pos = s.pos;
      if (pos >= n) s.markerAt = n;
      else if (bytes[pos] !== 0xff) {
        byte = bytes[pos];
        s.pos = pos + 1;
      } else {
        let next = pos + 1;
        while (next < n && bytes[next] === 0xff) next++;
        if (next < n && bytes[next] === 0) {
          byte = 0xff;
          s.pos = next + 1;
        } else s.markerAt = pos;
      }
    }
    if (byte < 0) {
      byte = 0;
      s.madeUp += 8;
    }
    s.acc = ((s.acc << 8) | byte) >>> 0;
    s.bits += 8;
  }
}

/**
 * Decodes the codes of `mcus` MCUs whose blocks use the DC and AC tables `dcs[i]`, `acs[i]`, without computing a
 * coefficient; false at a code no table holds (libjpeg's "bad Huffman code", which a valid file never has).
 */
function decodeMcus(bytes: Uint8Array, s: BitState, mcus: number, dcs: readonly Uint16Array[], acs: readonly Uint16Array[]): boolean {
  const blocks = dcs.length;
  for (let m = 0; m < mcus; m++) {
    for (let b = 0; b < blocks; b++) {
      let table = dcs[b];
      for (let k = 0; k < 64; ) {
        if (s.bits <= 24) fill(bytes, s);
        const entry = table[(s.acc >>> (s.bits - 16)) & 0xffff];
        if (entry === 0) return false;
        s.bits -= entry >> 8;
        const rs = entry & 0xff;
        let size: number;
        if (k === 0) {
          // The DC difference: `rs` more bits.
          size = rs;
          k = 1;
          table = acs[b];
        } else {
          size = rs & 15;
          if (size === 0) {
            if (rs >> 4 !== 15) break; // end of block
            k += 16; // sixteen zeros
            continue;
          }
          k += (rs >> 4) + 1;
        }
        if (s.bits < size) fill(bytes, s);
        s.bits -= size;
      }
    }
  }
  return true;
}

/**
 * Decodes the Huffman codes of one scan starting at `start`, a row of MCUs per step; returns where its data ends
 * (the first byte of the next marker), or what is wrong with it.
 */
function* walkScan(
  bytes: Uint8Array,
  start: number,
  frame: { width: number; height: number; hmax: number; vmax: number },
  scan: readonly { c: Component; dc: Uint16Array; ac: Uint16Array }[],
  restartInterval: number,
): Generator<void, number | string> {
  const s: BitState = { pos: start, acc: 0, bits: 0, madeUp: 0, markerAt: -1 };
  // Bytes loaded but not consumed, then bytes up to the next marker: what libjpeg calls extraneous.
  const strayBytes = () => {
    const next = nextMarker(bytes, s.markerAt >= 0 ? s.markerAt : s.pos);
    return { ...next, stray: next.stray + Math.floor(Math.max(0, s.bits - s.madeUp) / 8) };
  };
  // An interleaved scan's MCU holds h x v blocks of each component; a single component's, one block.
  const one = scan.length === 1;
  const dcs = scan.flatMap(({ c, dc }) => Array<Uint16Array>(one ? 1 : c.h * c.v).fill(dc));
  const acs = scan.flatMap(({ c, ac }) => Array<Uint16Array>(one ? 1 : c.h * c.v).fill(ac));
  const c0 = scan[0].c;
  const across = one ? Math.ceil(Math.ceil((frame.width * c0.h) / frame.hmax) / 8) : Math.ceil(frame.width / (8 * frame.hmax));
  const down = one ? Math.ceil(Math.ceil((frame.height * c0.v) / frame.vmax) / 8) : Math.ceil(frame.height / (8 * frame.vmax));
  const interval = restartInterval > 0 ? restartInterval : Infinity;
  let done = 0;
  let restarts = 0;
  let rowsDone = 0;
  const total = across * down;
  while (done < total) {
    if (done > 0 && done % interval === 0) {
      // A restart marker must follow the interval's data at once; the unused bits of its last byte are padding.
      const { stray, marker, after } = strayBytes();
      const expected = RST0 + (restarts % 8);
      if (stray > 0) return `Corrupt JPEG data: ${stray} extraneous bytes before marker 0x${marker.toString(16)}`;
      if (marker !== expected) return `Corrupt JPEG data: restart marker 0x${expected.toString(16)} missing`;
      Object.assign(s, { pos: after, acc: 0, bits: 0, madeUp: 0, markerAt: -1 });
      restarts++;
    }
    // Up to the end of this row or of this restart interval, whichever comes first.
    const count = Math.min(across - (done % across), interval - (done % interval));
    if (!decodeMcus(bytes, s, count, dcs, acs)) return 'Corrupt JPEG data: bad Huffman code';
    // The made-up bits are the last ones loaded: the data ran out when fewer bits are left than were made up.
    if (s.bits < s.madeUp) return 'Corrupt JPEG data: premature end of data segment';
    done += count;
    if (Math.floor(done / across) > rowsDone) {
      rowsDone = Math.floor(done / across);
      yield;
    }
  }
  const { stray, marker, at } = strayBytes();
  if (stray > 0) return `Corrupt JPEG data: ${stray} extraneous bytes before marker 0x${marker < 0 ? 'd9' : marker.toString(16)}`;
  return at;
}

/**
 * The next marker at or after `from`, as libjpeg finds it: other bytes (stuffed 0xff 0x00 pairs included) are
 * stray, 0xff fill bytes are not. `marker` is -1 when the file ends first; `at` is its first 0xff, `after` the
 * byte after its code.
 */
function nextMarker(bytes: Uint8Array, from: number): { marker: number; stray: number; at: number; after: number } {
  const n = bytes.length;
  let stray = 0;
  let at = from;
  for (;;) {
    while (at < n && bytes[at] !== 0xff) {
      at++;
      stray++;
    }
    let m = at;
    while (m < n && bytes[m] === 0xff) m++;
    if (m >= n) return { marker: -1, stray, at, after: n };
    if (bytes[m] !== 0) return { marker: bytes[m], stray, at, after: m + 1 };
    stray += m + 1 - at;
    at = m + 1;
  }
}
