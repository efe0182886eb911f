/** A minimal NIfTI-1 single-file writer for test fixtures: the 348-byte header, 4 bytes of extension flag, voxels. */
import { gzipSync } from 'node:zlib';

export interface NiftiFixture {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly data: Int16Array | Uint8Array | Float32Array;
  readonly spacing?: readonly [number, number, number];
  readonly slope?: number;
  readonly inter?: number;
  readonly bigEndian?: boolean;
  readonly gzip?: boolean;
}

export function encodeNifti(v: NiftiFixture): Buffer {
  const [code, bits] = v.data instanceof Int16Array ? [4, 16] : v.data instanceof Uint8Array ? [2, 8] : [16, 32];
  const header = Buffer.alloc(352);
  const le = !v.bigEndian;
  const i16 = (off: number, x: number) => (le ? header.writeInt16LE(x, off) : header.writeInt16BE(x, off));
  const i32 = (off: number, x: number) => (le ? header.writeInt32LE(x, off) : header.writeInt32BE(x, off));
  const f32 = (off: number, x: number) => (le ? header.writeFloatLE(x, off) : header.writeFloatBE(x, off));
  i32(0, 348);
  [3, v.width, v.height, v.depth, 1, 1, 1, 1].forEach((d, k) => i16(40 + 2 * k, d));
  i16(70, code);
  i16(72, bits);
  const [sx, sy, sz] = v.spacing ?? [1, 1, 1];
  [1, sx, sy, sz, 1, 1, 1, 1].forEach((d, k) => f32(76 + 4 * k, d));
  f32(108, 352);
  f32(112, v.slope ?? 1);
  f32(116, v.inter ?? 0);
  header.write('n+1\0', 344, 'latin1');
  const voxels = Buffer.from(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength));
  if (v.bigEndian) {
    const size = v.data.BYTES_PER_ELEMENT;
    for (let i = 0; i < voxels.length; i += size) voxels.subarray(i, i + size).reverse();
  }
  const file = Buffer.concat([header, voxels]);
  return v.gzip ? gzipSync(file) : file;
}
