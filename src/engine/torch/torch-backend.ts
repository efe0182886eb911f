/**
 * The `torch` TensorFlow.js backend: every tfjs DataId maps to a native at::Tensor (row-major, of exactly the
 * tensor's tfjs shape and dtype); string tensors stay in JS. Kernels live in ./kernels, one a file.
 */
import { KernelBackend, engine, util, type BackendTimingInfo, type DataId, type DataType, type TensorInfo, type BackendValues } from '@tensorflow/tfjs-core';
import { isFresh, keep, temp, toDtype } from './aten.js';

import { requireNative, type NativeTensor, type TorchAddon } from './native.js';

export interface TensorData {
  /** The native tensor; undefined for string tensors. */
  handle?: NativeTensor;
  /** JS values, for string tensors only. */
  strings?: Uint8Array[];
  shape: number[];
  dtype: DataType;
  refCount: number;
  /**
   * How often this tensor was the filter of a forward convolution and of a block-shaped transposed one (see
   * conv_util's `keptFilter`), counted apart: a training step uses a transposed convolution's filter in both.
   */
  filterUses?: { conv: number; block: number };
  /**
   * The filter as inference convolutions take it (oneDNN's blocked layout and/or bfloat16), made once a filter is
   * seen to be reused; freed with the tensor.
   */
  inferenceFilter?: { readonly key: string; readonly w: NativeTensor; readonly packed: boolean; readonly bfloat16: boolean };
  /**
   * The native tensor holds bfloat16 values of this float32 tensor: an activation made by a bfloat16 inference
   * convolution (see inference-precision.ts). Kept that way so that the next convolution needs no cast; `tensor`
   * hands it to every other kernel as float32.
   */
  bfloat16?: boolean;
}

let nextId = 0;

export class TorchBackend extends KernelBackend {
  readonly native: TorchAddon;
  private readonly data = new Map<DataId, TensorData>();
  private readonly codes: Record<string, number>;
  private disposed = false;

  constructor() {
    super();
    this.native = requireNative();
    const d = this.native.dtypes;
    this.codes = { float32: d.float32, int32: d.int32, bool: d.bool, complex64: d.complex64 };
  }

  /** The ATen scalar-type code for a tfjs dtype. */
  code(dtype: DataType): number {
    const c = this.codes[dtype];
    if (c === undefined) throw new Error(`torch backend: dtype '${dtype}' has no native form`);
    return c;
  }

  private entry(dataId: DataId): TensorData {
    let d = this.data.get(dataId);
    if (d === undefined) {
      // A tensor that lives on another backend: tfjs moves it here on first use.
      engine().moveData(this, dataId);
      d = this.data.get(dataId);
      if (d === undefined) throw new Error('torch backend: unknown tensor data (was it disposed?)');
    }
    return d;
  }

  has(dataId: DataId): boolean {
    return this.data.has(dataId);
  }

  dataOf(dataId: DataId): TensorData {
    return this.entry(dataId);
  }

  /** The native tensor of a kernel input, viewed in the input's shape (a Reshape may share data), of its tfjs dtype. */
  tensor(t: TensorInfo): NativeTensor {
    const d = this.entry(t.dataId);
    const h = this.viewOf(d, t);
    return d.bfloat16 ? toDtype(h, this.codes.float32) : h;
  }

  /**
   * Like `tensor`, but a bfloat16 inference activation comes as it is stored, in bfloat16 (see `isBfloat16`). Only
   * for kernels that handle both and store their result with `output(h, 'float32', true)` when it is bfloat16.
   */
  storedTensor(t: TensorInfo): NativeTensor {
    return this.viewOf(this.entry(t.dataId), t);
  }

  /** A stored tensor's handle, viewed in the kernel input's shape. */
  private viewOf(d: TensorData, t: TensorInfo): NativeTensor {
    if (d.handle === undefined) throw new Error(`torch backend: a ${t.dtype} tensor has no native form`);
    if (d.dtype !== t.dtype) throw new Error(`torch backend: tensor data is ${d.dtype} but the kernel input says ${t.dtype}`);
    if (!util.arraysEqual(d.shape, t.shape)) return temp(this.native.view(d.handle, t.shape));
    return d.handle;
  }

  /** Whether a float32 tensor is stored in bfloat16 (an activation of a bfloat16 inference convolution). */
  isBfloat16(t: TensorInfo): boolean {
    return this.entry(t.dataId).bfloat16 === true;
  }

  /**
   * Stores a native tensor made by a kernel as a new tensor of `dtype` (cast and made contiguous if needed).
   * `bfloat16`: a float32 result kept in bfloat16 (an inference activation; see `storedTensor`).
   */
  output(h: NativeTensor, dtype: DataType, bfloat16 = false): TensorInfo {
    if (bfloat16 && dtype !== 'float32') throw new Error(`torch backend: only float32 tensors can be stored in bfloat16, not ${dtype}`);
    // An input's own handle (an identity-like kernel): store a second handle on the same tensor instead.
    if (!isFresh(h)) h = temp(this.native.view(h, this.native.shape(h)));
    const shape = this.native.finish(h, bfloat16 ? this.native.dtypes.bfloat16 : this.code(dtype));
    keep(h);
    const dataId = { id: nextId++ };
    this.data.set(dataId, bfloat16 ? { handle: h, shape, dtype, refCount: 1, bfloat16 } : { handle: h, shape, dtype, refCount: 1 });
    return { dataId, shape, dtype };
  }

  /** A new tensor from JS values. */
  makeTensorInfo(shape: number[], dtype: DataType, values?: BackendValues): TensorInfo {
    const dataId = this.write(values ?? util.getTypedArrayFromDType(dtype as 'float32', util.sizeFromShape(shape)), shape, dtype);
    return { dataId, shape, dtype };
  }

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const dataId = { id: nextId++ };
    this.data.set(dataId, this.toData(values, shape, dtype, 1));
    return dataId;
  }

  private toData(values: BackendValues, shape: number[], dtype: DataType, refCount: number): TensorData {
    if (dtype === 'string') {
      const strings = (values as Uint8Array[]) ?? [];
      return { strings, shape: shape.slice(), dtype, refCount };
    }
    let typed = values as Float32Array | Int32Array | Uint8Array;
    const size = util.sizeFromShape(shape) * (dtype === 'complex64' ? 2 : 1);
    if (typed == null) typed = util.getTypedArrayFromDType(dtype === 'complex64' ? 'float32' : (dtype as 'float32'), size);
    if (dtype === 'float32' || dtype === 'complex64') {
      if (!(typed instanceof Float32Array)) typed = Float32Array.from(typed as ArrayLike<number>);
    } else if (dtype === 'int32') {
      if (!(typed instanceof Int32Array)) typed = Int32Array.from(typed as ArrayLike<number>);
    } else if (dtype === 'bool') {
      if (!(typed instanceof Uint8Array)) typed = Uint8Array.from(typed as ArrayLike<number>, (v) => (v ? 1 : 0));
    }
    const handle = this.native.fromArray(typed, shape, this.code(dtype));
    return { handle, shape: shape.slice(), dtype, refCount };
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.data.set(dataId, this.toData(values, shape, dtype, refCount));
  }

  override readSync(dataId: DataId): BackendValues {
    const d = this.entry(dataId);
    if (d.dtype === 'string') return d.strings ?? [];
    return this.native.toArray(d.handle!);
  }

  override async read(dataId: DataId): Promise<BackendValues> {
    return this.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const d = this.data.get(dataId);
    if (d === undefined) return true;
    d.refCount--;
    if (!force && d.refCount > 0) return false;
    if (d.handle !== undefined) this.native.free(d.handle);
    if (d.inferenceFilter !== undefined) this.native.free(d.inferenceFilter.w);
    this.data.delete(dataId);
    return true;
  }

  override refCount(dataId: DataId): number {
    return this.data.get(dataId)?.refCount ?? 0;
  }

  override incRef(dataId: DataId): void {
    const d = this.data.get(dataId);
    if (d) d.refCount++;
  }

  override numDataIds(): number {
    return this.data.size;
  }

  override memory(): { unreliable: boolean; reasons?: string[] } {
    return { unreliable: true, reasons: ['the torch backend does not count native bytes'] };
  }

  override timerAvailable(): boolean {
    return true;
  }

  override async time(f: () => void): Promise<BackendTimingInfo> {
    const start = performance.now();
    f();
    return { kernelMs: performance.now() - start };
  }

  override floatPrecision(): 16 | 32 {
    return 32;
  }

  override epsilon(): number {
    return super.epsilon();
  }

  override dispose(): void {
    if (this.disposed) return;
    for (const d of this.data.values()) if (d.handle !== undefined) this.native.free(d.handle);
    this.data.clear();
    this.disposed = true;
  }

  override toString(): string {
    return 'torch';
  }
}
