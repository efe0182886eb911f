/**
 * Model folders with compact weights, in TensorFlow.js's own quantised format (each weight's manifest entry says
 * `quantization: {dtype: 'float16'}` or `{dtype: 'uint8', min, scale}`), so that every tfjs loader, in Node and in
 * browsers, reads them back to float32 unchanged: `loadModel` and `tf.loadLayersModel` need nothing new. float16
 * halves a model (a weight float16 cannot hold stays float32), uint8 (per-tensor affine, value = q * scale + min)
 * quarters it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Float16Array } from '@petamoriken/float16';
import type * as tf from '@tensorflow/tfjs-core';
import { ArgumentError, StsError } from '../errors.js';
import { writeFolderAtomically } from '../io/atomic-write.js';
import { confinedPath, readRegularFile } from '../io/confined-file.js';
import { readJsonFile } from '../io/json-file.js';
import { MAX_WEIGHTS_BYTES, weightBytes } from './model-files.js';

export const COMPACT_DTYPES = ['float16', 'uint8'] as const;
export type CompactDtype = (typeof COMPACT_DTYPES)[number];

type Spec = tf.io.WeightsManifestEntry;

/** The largest finite float16. */
export const FLOAT16_MAX = 65504;

/**
 * One float32 weight, quantised: its bytes and its manifest entry. Under float16 a weight with a value beyond
 * float16's range stays float32 (its entry without `quantization`): batch norm's running variance after a layer fed
 * 0..255 photographs reaches 1e6 (the polyp rough network's), which float16 would turn into infinity. Such tensors
 * are per-channel statistics, a few hundred values, so the model stays about half its float32 size.
 */
export function quantizeWeight(spec: Spec, values: Float32Array, dtype: CompactDtype): { spec: Spec; bytes: Uint8Array } {
  if (dtype === 'float16') {
    if (values.some((v) => !(Math.abs(v) <= FLOAT16_MAX))) return { spec, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
    const half = new Float16Array(values);
    return { spec: { ...spec, quantization: { dtype: 'float16' } }, bytes: new Uint8Array(half.buffer, half.byteOffset, half.byteLength) };
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) min = max = 0;
  // A constant tensor (batch norm's initial moving mean, say) keeps scale 1: every q is 0 and decodes to min.
  const scale = max > min ? (max - min) / 255 : 1;
  const q = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.round((values[i] - min) / scale);
  return { spec: { ...spec, quantization: { dtype: 'uint8', min, scale } }, bytes: q };
}

/**
 * Writes a copy of the model folder `from` (model.json + weights.bin, as `saveModel` writes) to `to` with every
 * float32 weight quantised to `dtype`; other weights are copied as they are. Returns both weight sizes in bytes.
 */
export async function compactModelFolder(from: string, to: string, dtype: CompactDtype): Promise<{ before: number; after: number }> {
  if (!COMPACT_DTYPES.includes(dtype)) throw new ArgumentError('dtype', `must be one of ${COMPACT_DTYPES.join(', ')}, got '${String(dtype)}'`);
  const json = await readJsonFile<tf.io.ModelJSON>(join(from, 'model.json'), "give a model folder written by 'sts train'");
  const groups = json.weightsManifest ?? [];
  if (groups.length !== 1 || groups[0].paths.length !== 1) throw new StsError(`${from}: expected one weights file (as sts train writes); this model has ${groups.flatMap((g) => g.paths).length}`);
  // The same confinement and bound as loadModel: only a regular file inside the folder, at most MAX_WEIGHTS_BYTES.
  const remedy = "give a model folder written by 'sts train'";
  const file = await confinedPath(from, groups[0].paths[0], { namedBy: join(from, 'model.json'), what: 'weights file', remedy });
  const bin = await readRegularFile(file, MAX_WEIGHTS_BYTES, 'weights file', remedy);
  const specs = groups[0].weights;
  if (specs.some((s) => s.quantization)) throw new StsError(`${from}: the weights are quantised already; compact the float32 model`);
  // Read straight from the file's bytes (no tensors, so no engine is needed): unquantised weights lie one after
  // the other in manifest order (quantised ones were refused above).
  const out: Spec[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of specs) {
    const bytes = weightBytes(spec);
    if (offset + bytes > bin.length) throw new StsError(`${join(from, groups[0].paths[0])}: shorter than model.json describes; copy the model folder again`);
    const raw = new Uint8Array(bin.buffer, bin.byteOffset + offset, bytes);
    offset += bytes;
    if (spec.dtype === 'float32') {
      const q = quantizeWeight(spec, new Float32Array(raw.slice().buffer), dtype);
      out.push(q.spec);
      parts.push(q.bytes);
    } else {
      out.push(spec);
      parts.push(raw);
    }
  }
  const weights = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (weights.set(p, offset), offset + p.length), 0);
  await writeFolderAtomically(to, async (tmp) => {
    await writeFile(join(tmp, 'weights.bin'), weights);
    await writeFile(join(tmp, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ paths: ['weights.bin'], weights: out }] }));
  });
  return { before: bin.length, after: weights.length };
}
