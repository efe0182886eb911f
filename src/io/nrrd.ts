/**
 * NRRD volumes (teem's format, which 3D Slicer writes, AVT's `.seg.nrrd` labels included), written by hand: no
 * maintained npm reader handles gzip and Slicer's segmentation fields, and the format is a text header plus raw
 * or gzip-compressed voxels. Supported: attached or detached (`data file`) single data files; encodings raw, gzip
 * and ascii; endianness; `byte skip` (including -1 for raw) and `line skip`; 2-D or 3-D with an optional leading
 * non-spatial axis (Slicer's layers of a multi-layer segmentation).
 */
import { open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { StsError } from '../errors.js';
import { type Volume, type VoxelArray, machineIsLittleEndian, typedFromBytes, readVolumeBytes, unreadableFile } from './volume.js';

/** One segment of a Slicer segmentation: voxels of layer `layer` equal to `labelValue`. */
export interface Segment {
  readonly id: string;
  readonly name: string;
  readonly layer: number;
  readonly labelValue: number;
}

export interface NrrdVolume extends Volume {
  readonly components: number;
  /** Every `field: value` of the header, keys lower-cased. */
  readonly fields: Readonly<Record<string, string>>;
  /** Every `key:=value` pair, keys as written. */
  readonly keyValues: Readonly<Record<string, string>>;
  /** Slicer segments (`Segment<i>_*` pairs); empty for an ordinary volume. */
  readonly segments: readonly Segment[];
}

type Ctor = { new (buffer: ArrayBuffer): VoxelArray; new (length: number): VoxelArray; readonly BYTES_PER_ELEMENT: number };

const TYPES: ReadonlyArray<[readonly string[], Ctor]> = [
  [['signed char', 'int8', 'int8_t'], Int8Array],
  [['uchar', 'unsigned char', 'uint8', 'uint8_t'], Uint8Array],
  [['short', 'short int', 'signed short', 'signed short int', 'int16', 'int16_t'], Int16Array],
  [['ushort', 'unsigned short', 'unsigned short int', 'uint16', 'uint16_t'], Uint16Array],
  [['int', 'signed int', 'int32', 'int32_t'], Int32Array],
  [['uint', 'unsigned int', 'uint32', 'uint32_t'], Uint32Array],
  [['float'], Float32Array],
  [['double'], Float64Array],
];

function typeOf(name: string, path: string): Ctor {
  const hit = TYPES.find(([names]) => names.includes(name.toLowerCase()));
  if (!hit) {
    throw new StsError(`${path}: NRRD type '${name}' is not supported; save the volume as 8/16/32-bit integers or float`);
  }
  return hit[1];
}

/** Reads an NRRD file (`.nrrd` or a detached `.nhdr` header). */
export async function readNrrd(path: string): Promise<NrrdVolume> {
  const bytes = await readVolumeBytes(path);
  return parseNrrd(bytes, path, async (name) => {
    const dataPath = join(dirname(path), name);
    try {
      return await readFile(dataPath);
    } catch (error) {
      throw new StsError(`${path}: its data file ${dataPath} cannot be read (${(error as Error).message})`);
    }
  });
}

interface Header {
  readonly fields: Record<string, string>;
  readonly keyValues: Record<string, string>;
  /** Byte offset of the first data byte after the header's blank line. */
  readonly dataOffset: number;
}

function parseHeader(bytes: Uint8Array, path: string): Header {
  const fields: Record<string, string> = {};
  const keyValues: Record<string, string> = {};
  let pos = 0;
  let first = true;
  for (;;) {
    let end = bytes.indexOf(10, pos);
    if (end < 0) end = bytes.length;
    const line = Buffer.from(bytes.subarray(pos, end)).toString('latin1').replace(/\r$/, '');
    pos = end + 1;
    if (first) {
      if (!/^NRRD000[1-5]$/.test(line)) throw new StsError(`${path}: not an NRRD file (its first line is not NRRD000x)`);
      first = false;
      continue;
    }
    if (line === '' || end >= bytes.length) break;
    if (line.startsWith('#')) continue;
    const kv = line.indexOf(':=');
    const colon = line.indexOf(': ');
    if (kv >= 0 && (colon < 0 || kv < colon)) keyValues[line.slice(0, kv)] = line.slice(kv + 2);
    else if (colon >= 0) fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 2).trim();
    else throw new StsError(`${path}: malformed NRRD header line '${line.slice(0, 80)}'`);
  }
  return { fields, keyValues, dataOffset: Math.min(pos, bytes.length) };
}

/** Parses NRRD bytes; `readDataFile` fetches a detached header's data file by the name the header gives. */
/** What the header says about the volume, before any voxel is read. */
export interface NrrdInfo extends Omit<NrrdVolume, 'data'> {
  readonly type: Ctor;
  readonly count: number;
}

function describeNrrd({ fields, keyValues }: Header, path: string): NrrdInfo {
  const need = (name: string): string => {
    const v = fields[name];
    if (v === undefined) throw new StsError(`${path}: the NRRD header has no '${name}' field`);
    return v;
  };
  const type = typeOf(need('type'), path);
  const dimension = Number(need('dimension'));
  const sizes = need('sizes').split(/\s+/).map(Number);
  if (sizes.length !== dimension || sizes.some((s) => !Number.isInteger(s) || s <= 0)) {
    throw new StsError(`${path}: NRRD sizes '${fields.sizes}' do not give ${dimension} positive integers`);
  }
  const kinds = fields.kinds?.split(/\s+/) ?? [];
  const directions = parseDirections(fields['space directions']);
  const spatialKind = (k: string | undefined) => k === undefined || k === 'domain' || k === 'space' || k === '???';
  const leadingComponents = dimension > 2 && (!spatialKind(kinds[0]) || directions?.[0] === null);
  const spatial = leadingComponents ? sizes.slice(1) : sizes;
  if (spatial.length < 2 || spatial.length > 3) {
    throw new StsError(`${path}: an NRRD of ${dimension} dimensions (sizes ${fields.sizes}) is not a 2-D or 3-D volume`);
  }
  const components = leadingComponents ? sizes[0] : 1;
  const [width, height, depth = 1] = spatial;
  return {
    width,
    height,
    depth,
    components,
    spacing: spacingOf(fields, directions, leadingComponents, path),
    fields,
    keyValues,
    segments: segmentsOf(keyValues, components),
    type,
    count: sizes.reduce((a, b) => a * b, 1),
  };
}

/** Parses NRRD bytes; `readDataFile` fetches a detached header's data file by the name the header gives. */
export async function parseNrrd(
  bytes: Uint8Array,
  path: string,
  readDataFile?: (name: string) => Promise<Uint8Array>,
): Promise<NrrdVolume> {
  const header = parseHeader(bytes, path);
  const { fields, dataOffset } = header;
  const { type: Type, count, ...info } = describeNrrd(header, path);
  let data: Uint8Array = bytes.subarray(dataOffset);
  const dataFile = fields['data file'] ?? fields.datafile;
  if (dataFile !== undefined) {
    if (/^LIST$|%/.test(dataFile) || dataFile.split(/\s+/).length > 1) {
      throw new StsError(`${path}: NRRD with several data files ('${dataFile}') is not supported; save it as one .nrrd`);
    }
    if (!readDataFile) throw new StsError(`${path}: a detached header needs its data file '${dataFile}'`);
    data = await readDataFile(dataFile);
  }
  const lineSkip = Number(fields['line skip'] ?? fields.lineskip ?? 0);
  for (let i = 0; i < lineSkip; i++) {
    const nl = data.indexOf(10);
    data = nl < 0 ? data.subarray(data.length) : data.subarray(nl + 1);
  }

  const encoding = (fields.encoding ?? 'raw').toLowerCase();
  const byteSkip = Number(fields['byte skip'] ?? fields.byteskip ?? 0);
  const expectedBytes = count * Type.BYTES_PER_ELEMENT;
  let voxels: VoxelArray;
  if (encoding === 'ascii' || encoding === 'text' || encoding === 'txt') {
    const values = Buffer.from(data).toString('latin1').trim().split(/[\s,]+/).map(Number);
    if (values.length < count) throw new StsError(`${path}: NRRD has ${values.length} ascii values, ${count} expected`);
    voxels = new Type(count);
    for (let i = 0; i < count; i++) voxels[i] = values[i];
  } else {
    if (encoding === 'gzip' || encoding === 'gz') {
      try {
        data = gunzipSync(data);
      } catch (error) {
        throw new StsError(`${path}: the NRRD's gzip data is damaged (${(error as Error).message}); export the file again`);
      }
    } else if (encoding !== 'raw') {
      throw new StsError(`${path}: NRRD encoding '${encoding}' is not supported; save it with raw or gzip encoding`);
    }
    const skip = byteSkip === -1 ? data.length - expectedBytes : byteSkip;
    if (skip < 0 || data.length - skip < expectedBytes) {
      throw new StsError(
        `${path}: NRRD data holds ${data.length - Math.max(skip, 0)} bytes but sizes ${fields.sizes} of '${fields.type}' need ${expectedBytes}; the file is truncated`,
      );
    }
    const littleEndian = (fields.endian ?? 'little').toLowerCase() !== 'big';
    voxels = typedFromBytes(data.subarray(skip, skip + expectedBytes), Type, littleEndian);
  }

  return { ...info, data: voxels };
}

/** `(a,b,c) (d,e,f) none ...` as vectors, `none` as null. */
function parseDirections(text: string | undefined): (number[] | null)[] | undefined {
  if (text === undefined) return undefined;
  const out: (number[] | null)[] = [];
  for (const m of text.matchAll(/\(([^)]*)\)|none/g)) out.push(m[1] === undefined ? null : m[1].split(',').map(Number));
  return out;
}

function spacingOf(
  fields: Record<string, string>,
  directions: (number[] | null)[] | undefined,
  leadingComponents: boolean,
  path: string,
): [number, number, number] {
  let values: number[] = [];
  if (directions) {
    values = directions.filter((d): d is number[] => d !== null).map((d) => Math.hypot(...d));
  } else if (fields.spacings) {
    values = fields.spacings.split(/\s+/).map(Number).slice(leadingComponents ? 1 : 0);
  }
  const out: [number, number, number] = [1, 1, 1];
  for (let i = 0; i < 3 && i < values.length; i++) {
    if (Number.isFinite(values[i]) && values[i] > 0) out[i] = values[i];
    else if (!Number.isNaN(values[i])) throw new StsError(`${path}: NRRD voxel spacing ${values[i]} is not positive`);
  }
  return out;
}

/**
 * Slicer's `Segment<i>_ID / _Name / _Layer / _LabelValue` pairs. Files from Slicer before 4.11 have neither layer
 * nor label value: one layer per segment, foreground 1; we default to that.
 */
function segmentsOf(keyValues: Record<string, string>, components: number): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; ; i++) {
    const prefix = `Segment${i}_`;
    if (!(`${prefix}ID` in keyValues) && !(`${prefix}Name` in keyValues)) break;
    const layer = Number(keyValues[`${prefix}Layer`] ?? (components > 1 ? i : 0));
    const labelValue = Number(keyValues[`${prefix}LabelValue`] ?? 1);
    out.push({
      id: keyValues[`${prefix}ID`] ?? `Segment_${i}`,
      name: keyValues[`${prefix}Name`] ?? keyValues[`${prefix}ID`] ?? `Segment_${i}`,
      layer,
      labelValue,
    });
  }
  return out;
}

const WRITE_TYPES = new Map<Function, string>([
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
  [Int16Array, 'int16'],
  [Uint16Array, 'uint16'],
  [Int32Array, 'int32'],
  [Uint32Array, 'uint32'],
  [Float32Array, 'float'],
  [Float64Array, 'double'],
]);

/**
 * Encodes a volume as an attached little-endian NRRD (used for test fixtures and for building derived label sets);
 * `keyValues` become `key:=value` lines, e.g. Slicer's segment fields.
 */
export function encodeNrrd(
  volume: Volume,
  { encoding = 'gzip', keyValues = {} }: { encoding?: 'raw' | 'gzip'; keyValues?: Record<string, string> } = {},
): Buffer {
  const type = WRITE_TYPES.get(volume.data.constructor);
  if (!type) throw new StsError('volume.data: cannot write this array type to NRRD');
  const components = volume.components ?? 1;
  const [sx, sy, sz] = volume.spacing;
  const lines = ['NRRD0004', `type: ${type}`];
  if (components > 1) {
    lines.push('dimension: 4', `sizes: ${components} ${volume.width} ${volume.height} ${volume.depth}`);
    lines.push('kinds: list domain domain domain', `space directions: none (${sx},0,0) (0,${sy},0) (0,0,${sz})`);
  } else {
    lines.push('dimension: 3', `sizes: ${volume.width} ${volume.height} ${volume.depth}`);
    lines.push('kinds: domain domain domain', `space directions: (${sx},0,0) (0,${sy},0) (0,0,${sz})`);
  }
  lines.push('space: left-posterior-superior', 'endian: little', `encoding: ${encoding}`);
  for (const [k, v] of Object.entries(keyValues)) lines.push(`${k}:=${v}`);
  const raw = Buffer.from(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength);
  if (!machineIsLittleEndian) throw new StsError('encodeNrrd: big-endian machines are not supported');
  return Buffer.concat([Buffer.from(`${lines.join('\n')}\n\n`, 'latin1'), encoding === 'gzip' ? gzipSync(raw) : raw]);
}

/**
 * Foreground of one axial slice of a label volume: voxels belonging to any of `segments` (matched by name or ID;
 * all segments when omitted), or, for a volume without segment fields, any non-zero label in any layer.
 */
export function segmentationSliceMask(
  volume: Volume & { readonly segments?: readonly Segment[] },
  z: number,
  segments?: readonly string[],
): { width: number; height: number; channels: 1; data: Uint8Array } {
  const components = volume.components ?? 1;
  const plane = volume.width * volume.height;
  const out = new Uint8Array(plane);
  const d = volume.data;
  const base = z * plane * components;
  const known = volume.segments ?? [];
  const chosen = segments ? known.filter((s) => segments.includes(s.name) || segments.includes(s.id)) : known;
  if (segments && chosen.length < segments.length) {
    const missing = segments.filter((n) => !known.some((s) => s.name === n || s.id === n));
    throw new StsError(`segments: ${missing.join(', ')} not in this segmentation; it has ${known.map((s) => s.name).join(', ') || 'no named segments'}`);
  }
  if (chosen.length === 0) {
    for (let i = 0, j = base; i < plane; i++, j += components) {
      for (let k = 0; k < components; k++) if (d[j + k] !== 0) out[i] = 1;
    }
    return { width: volume.width, height: volume.height, channels: 1, data: out };
  }
  for (const s of chosen) {
    if (s.layer >= components) throw new StsError(`segment '${s.name}' is in layer ${s.layer} but the volume has ${components}`);
    for (let i = 0, j = base + s.layer; i < plane; i++, j += components) if (d[j] === s.labelValue) out[i] = 1;
  }
  return { width: volume.width, height: volume.height, channels: 1, data: out };
}

/** Sizes, spacing and segments from the header alone, without reading or inflating the voxels. */
export async function readNrrdHeader(path: string): Promise<NrrdInfo> {
  let handle;
  try {
    handle = await open(path, 'r');
    let head = Buffer.alloc(0);
    // Headers are a few kB (Slicer's segment fields included); the blank line ends them.
    while (head.indexOf('\n\n') < 0 && head.indexOf('\r\n\r\n') < 0 && head.length < 16 << 20) {
      const buf = Buffer.alloc(65536);
      const { bytesRead } = await handle.read(buf, 0, buf.length, head.length);
      if (bytesRead === 0) break;
      head = Buffer.concat([head, buf.subarray(0, bytesRead)]);
    }
    return describeNrrd(parseHeader(head, path), path);
  } catch (error) {
    if (error instanceof StsError) throw error;
    throw unreadableFile(path, error);
  } finally {
    await handle?.close();
  }
}
