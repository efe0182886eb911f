/**
 * A large single-colour 8-bit gray PNG made in milliseconds, for tests of size limits: the compressed rows of a
 * chunk are made once (deflate with a full flush, so no chunk refers back to another) and repeated; the zlib
 * checksum is combined chunk by chunk. Every row after the first is filtered 'Up' (all zeros).
 */
import { deflateRawSync, constants } from 'node:zlib';

const ROWS_PER_CHUNK = 100;

/** A `width` x `height` PNG of gray `value`; `height - 1` must be a multiple of 100. */
export function constantGrayPng(width: number, height: number, value: number): Buffer {
  if ((height - 1) % ROWS_PER_CHUNK !== 0) throw new Error(`height - 1 must be a multiple of ${ROWS_PER_CHUNK}`);
  const first = Buffer.alloc(width + 1, value);
  first[0] = 0; // filter None
  const chunk = Buffer.alloc((width + 1) * ROWS_PER_CHUNK);
  for (let y = 0; y < ROWS_PER_CHUNK; y++) chunk[y * (width + 1)] = 2; // filter Up: every byte 0
  const flush = { finishFlush: constants.Z_FULL_FLUSH };
  const firstZ = deflateRawSync(first, flush);
  const chunkZ = deflateRawSync(chunk, flush);
  const chunks = (height - 1) / ROWS_PER_CHUNK;
  let check = adler32(first);
  const chunkCheck = adler32(chunk);
  for (let i = 0; i < chunks; i++) check = adler32Combine(check, chunkCheck, chunk.length);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(check >>> 0);
  // zlib header (deflate, 32K window, no dictionary), the blocks, an empty final fixed block, the checksum.
  const idat = Buffer.concat([Buffer.from([0x78, 0x01]), firstZ, ...Array<Buffer>(chunks).fill(chunkZ), Buffer.from([0x03, 0x00]), trailer]);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const MOD = 65521;

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const x of bytes) {
    a = (a + x) % MOD;
    b = (b + a) % MOD;
  }
  return b * 65536 + a;
}

/** The Adler-32 of A followed by B, from theirs and B's length (zlib's adler32_combine). */
function adler32Combine(adlerA: number, adlerB: number, lengthB: number): number {
  const a1 = adlerA % 65536;
  const b1 = Math.floor(adlerA / 65536);
  const a2 = adlerB % 65536;
  const b2 = Math.floor(adlerB / 65536);
  const rem = lengthB % MOD;
  const a = (a1 + a2 - 1 + MOD) % MOD;
  const b = (b1 + b2 + ((rem * a1) % MOD) - rem + MOD) % MOD;
  return b * 65536 + a;
}
