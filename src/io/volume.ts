/**
 * 3-D volumes as the readers hand them out: one typed array, the first index axis (x) fastest, then y, then z,
 * which is the order both NRRD and NIfTI store voxels in, so reading never reorders memory.
 */
import { readFile } from 'node:fs/promises';
import { ArgumentError, StsError } from '../errors.js';

export type VoxelArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export interface Volume<T extends VoxelArray = VoxelArray> {
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  /**
   * Values per voxel, interleaved fastest (1 for a scalar volume; a multi-layer `.seg.nrrd` has one per layer).
   * Optional so that a plain { width, height, depth, data, spacing } is a volume.
   */
  readonly components?: number;
  readonly data: T;
  /** Voxel size along x, y, z (mm for CT); 1 where the file does not say. */
  readonly spacing: readonly [number, number, number];
}

/** One plane of a volume, row-major; the voxel type is kept (it may be signed, which rasters are not). */
export interface VolumeSlice<T extends VoxelArray = VoxelArray> {
  readonly width: number;
  readonly height: number;
  readonly data: T;
}

/**
 * Axial slice `z`: row r, column c is voxel (x = c, y = r, z). For scanner-ordered CT (axes along
 * L, P, S, as AVT's) this is the usual radiological view. The reference loads volumes with `np.rot90`, which gives
 * this slice flipped upside down; image and mask are read alike, so training sees the same pairs either way.
 */
export function axialSlice<T extends VoxelArray>(volume: Volume<T>, z: number, component = 0): VolumeSlice<T> {
  const components = volume.components ?? 1;
  if (!Number.isInteger(z) || z < 0 || z >= volume.depth) {
    throw new ArgumentError('z', `slice ${String(z)} is outside the volume's 0..${volume.depth - 1}`);
  }
  if (!Number.isInteger(component) || component < 0 || component >= components) {
    throw new ArgumentError('component', `${String(component)} is outside 0..${components - 1}`);
  }
  const plane = volume.width * volume.height;
  const Ctor = volume.data.constructor as new (n: number) => T;
  if (components === 1) {
    const out = new Ctor(plane);
    out.set(volume.data.subarray(z * plane, (z + 1) * plane) as ArrayLike<number>);
    return { width: volume.width, height: volume.height, data: out };
  }
  const out = new Ctor(plane);
  const d = volume.data;
  for (let i = 0, j = z * plane * components + component; i < plane; i++, j += components) out[i] = d[j];
  return { width: volume.width, height: volume.height, data: out };
}

/** Copies a big-endian (or other-endian) buffer's elements into native order, in place. */
export function swapBytes(bytes: Uint8Array, elementSize: number): void {
  if (elementSize === 1) return;
  for (let i = 0; i + elementSize <= bytes.length; i += elementSize) {
    for (let a = i, b = i + elementSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** An aligned copy of `bytes` as the typed array `Ctor`, swapped from `littleEndian` to this machine's order. */
export function typedFromBytes<T extends VoxelArray>(
  bytes: Uint8Array,
  Ctor: { new (buffer: ArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
  littleEndian: boolean,
): T {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (littleEndian !== machineIsLittleEndian) swapBytes(copy, Ctor.BYTES_PER_ELEMENT);
  return new Ctor(copy.buffer);
}

export const machineIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The error for a volume file the system cannot read (missing, no permission, a folder): it names the file. */
export function unreadableFile(path: string, error: unknown): StsError {
  return new StsError(`${path}: cannot read this file (${(error as Error).message}); check the path`);
}

/** A volume file's bytes, or `unreadableFile`. */
export async function readVolumeBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw unreadableFile(path, error);
  }
}
