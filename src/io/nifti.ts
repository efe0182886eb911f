/**
 * NIfTI-1 (and NIfTI-2) volumes, `.nii` or `.nii.gz`, through nifti-reader-js for the header and voxel offsets.
 * Decompression uses Node's zlib (native, several times faster than the library's JavaScript inflate on CT-sized
 * files). Scaled data (`scl_slope` other than 0 or 1, or a non-zero `scl_inter`, as many CT exports store HU)
 * comes back as float32 in real units, so a CT window applies to Hounsfield units whatever the storage type.
 */
import { open } from 'node:fs/promises';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { StsError } from '../errors.js';
import { type Volume, type VoxelArray, typedFromBytes, readVolumeBytes, unreadableFile } from './volume.js';

type Ctor = { new (buffer: ArrayBuffer): VoxelArray; readonly BYTES_PER_ELEMENT: number };

const TYPES = new Map<number, Ctor>([
  [nifti.NIFTI1.TYPE_INT8, Int8Array],
  [nifti.NIFTI1.TYPE_UINT8, Uint8Array],
  [nifti.NIFTI1.TYPE_INT16, Int16Array],
  [nifti.NIFTI1.TYPE_UINT16, Uint16Array],
  [nifti.NIFTI1.TYPE_INT32, Int32Array],
  [nifti.NIFTI1.TYPE_UINT32, Uint32Array],
  [nifti.NIFTI1.TYPE_FLOAT32, Float32Array],
  [nifti.NIFTI1.TYPE_FLOAT64, Float64Array],
]);

export interface NiftiVolume extends Volume {
  /** The header as nifti-reader-js parsed it (affine, qform/sform codes, units, description). */
  readonly header: nifti.NIFTI1 | nifti.NIFTI2;
}

/** Reads a `.nii` or `.nii.gz` file (gzip is detected from the bytes, not the name). */
export async function readNifti(path: string): Promise<NiftiVolume> {
  const bytes = await readVolumeBytes(path);
  return parseNifti(bytes, path);
}

export function parseNifti(bytes: Uint8Array, path: string): NiftiVolume {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new StsError(`${path}: the gzip data is damaged (${(error as Error).message}); export the file again`);
    }
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  if (!nifti.isNIFTI(buffer)) {
    throw new StsError(`${path}: not a NIfTI file (no n+1 / n+2 magic); give a single-file .nii or .nii.gz`);
  }
  const header = nifti.readHeader(buffer);
  const Type = TYPES.get(header.datatypeCode);
  if (!Type) {
    throw new StsError(`${path}: NIfTI datatype ${header.datatypeCode} is not supported; save it as 8/16/32-bit integers or float`);
  }
  const [ndim, width, height, depth = 1, ...rest] = header.dims;
  const extra = rest.slice(0, Math.max(0, ndim - 3)).reduce((a, b) => a * (b || 1), 1);
  if (ndim < 2 || ndim > 7 || extra !== 1) {
    throw new StsError(`${path}: NIfTI of dimensions ${header.dims.slice(1, ndim + 1).join(' x ')} is not a single 2-D or 3-D volume`);
  }
  const count = width * height * (ndim >= 3 ? depth : 1);
  const image = new Uint8Array(nifti.readImage(header, buffer));
  if (image.byteLength < count * Type.BYTES_PER_ELEMENT) {
    throw new StsError(`${path}: NIfTI holds ${image.byteLength} bytes of voxels, ${count * Type.BYTES_PER_ELEMENT} expected; the file is truncated`);
  }
  let data: VoxelArray = typedFromBytes(image.subarray(0, count * Type.BYTES_PER_ELEMENT), Type, header.littleEndian);
  const slope = header.scl_slope;
  const inter = header.scl_inter;
  // The standard says slope 0 means "not scaled"; NaN appears in files from tools that never set the fields.
  if (Number.isFinite(slope) && slope !== 0 && (slope !== 1 || (Number.isFinite(inter) && inter !== 0))) {
    const scaled = new Float32Array(count);
    const b = Number.isFinite(inter) ? inter : 0;
    for (let i = 0; i < count; i++) scaled[i] = data[i] * slope + b;
    data = scaled;
  }
  const spacing = [1, 2, 3].map((i) => {
    const v = Math.abs(header.pixDims[i] ?? 1);
    return v > 0 && Number.isFinite(v) ? v : 1;
  }) as [number, number, number];
  return { width, height, depth: ndim >= 3 ? depth : 1, components: 1, data, spacing, header };
}

/** Size and spacing from the header alone: the first 540 bytes (a NIfTI-2 header), inflated as far as needed. */
export async function readNiftiInfo(path: string): Promise<Omit<Volume, 'data'>> {
  let head: Buffer;
  try {
    head = await readStart(path, 540);
  } catch (error) {
    throw unreadableFile(path, error);
  }
  const buffer = head.buffer.slice(head.byteOffset, head.byteOffset + head.byteLength) as ArrayBuffer;
  if (!nifti.isNIFTI(buffer)) {
    throw new StsError(`${path}: not a NIfTI file (no n+1 / n+2 magic); give a single-file .nii or .nii.gz`);
  }
  const header = nifti.readHeader(buffer);
  const [ndim, width, height, depth = 1] = header.dims;
  const spacing = [1, 2, 3].map((i) => Math.abs(header.pixDims[i] ?? 1) || 1) as [number, number, number];
  return { width, height, depth: ndim >= 3 ? depth : 1, components: 1, spacing };
}

/** The first `n` bytes of a file, gunzipped when it is gzip (a sync flush inflates a truncated stream's start). */
async function readStart(path: string, n: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const start = buf.subarray(0, bytesRead);
    if (start[0] === 0x1f && start[1] === 0x8b) {
      return gunzipSync(start, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).subarray(0, n);
    }
    return start.subarray(0, n);
  } finally {
    await handle.close();
  }
}
