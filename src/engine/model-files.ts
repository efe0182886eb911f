/**
 * TensorFlow.js models as files: `model.json` + `weights.bin` in a folder, the layout `tf.loadLayersModel` reads
 * over HTTP, so the browser loads what Node trained unchanged. Folders are written atomically (io/atomic-write.ts),
 * so a crash never leaves a half-written model where a complete one is expected.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { StsError } from '../errors.js';
import { writeFolderAtomically } from '../io/atomic-write.js';
import { confinedPath, readRegularFile, regularFileSize } from '../io/confined-file.js';
import { readJsonFile } from '../io/json-file.js';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/**
 * Writes `model` (and `metadata`, kept in model.json's userDefinedMetadata) to the folder `dir`, replacing it.
 * `alongside` may write more files into the same folder, which then appears complete or not at all.
 */
export async function saveModel(
  dir: string,
  model: tfl.LayersModel,
  metadata: Record<string, unknown> = {},
  alongside?: (tmpDir: string) => Promise<void>,
): Promise<void> {
  await writeFolderAtomically(dir, async (tmp) => {
    await alongside?.(tmp);
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
        const json = {
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy: 'segment-then-segment',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
          userDefinedMetadata: { ...(artifacts.userDefinedMetadata ?? {}), ...metadata },
        };
        await writeFile(join(tmp, WEIGHTS_BIN), new Uint8Array(weights));
        await writeFile(join(tmp, MODEL_JSON), JSON.stringify(json));
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
  });
}

export interface LoadedModel {
  readonly model: tfl.LayersModel;
  readonly metadata: Record<string, unknown>;
}

/** model.json holds the topology and the manifest: a few MB for the largest networks here. */
const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;
/** Weights beyond this are not a segmentation network of this project (the catalog's are 16 MB). */
export const MAX_WEIGHTS_BYTES = 2 * 2 ** 30;

/**
 * Reads a model folder written by `saveModel` (or any tfjs layers model with its weights beside model.json). The
 * weights files model.json names are taken only from the folder itself (a name that leaves it, or a link out, is
 * refused by name without reading) and read with the bound the manifest implies: each must be a regular file, and
 * together they must hold exactly the bytes the manifest describes before any is read.
 */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const jsonPath = join(dir, MODEL_JSON);
  const remedy = "give a model folder written by 'sts train' (model.json + weights.bin)";
  const json = await readJsonFile<tf.io.ModelJSON>(jsonPath, remedy, { maxBytes: MAX_MODEL_JSON_BYTES });
  if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw new StsError(`${jsonPath}: not a TensorFlow.js layers model (no modelTopology and weightsManifest); ${remedy}`);
  }
  const manifest = json.weightsManifest;
  const problem = manifestProblem(manifest);
  if (problem) throw new StsError(`${jsonPath}: its weightsManifest ${problem}; ${remedy}`);
  const specs = manifest.flatMap((group) => group.weights);
  const expected = specs.reduce((n, s) => n + weightBytes(s), 0);
  if (expected > MAX_WEIGHTS_BYTES) {
    throw new StsError(`${jsonPath}: its weightsManifest describes ${expected.toLocaleString('en-US')} bytes of weights, more than the ${MAX_WEIGHTS_BYTES / 2 ** 30} GiB a network here can have; ${remedy}`);
  }
  const weightsRemedy = `put the weights beside model.json, named by file name (as 'sts train' writes weights.bin), or copy the model folder again`;
  const files: string[] = [];
  for (const name of manifest.flatMap((group) => group.paths)) {
    files.push(await confinedPath(dir, name, { namedBy: jsonPath, what: 'weights file', remedy: weightsRemedy }));
  }
  const sizes: number[] = [];
  for (const file of files) sizes.push(await regularFileSize(file, 'weights file', weightsRemedy));
  const actual = sizes.reduce((n, b) => n + b, 0);
  if (actual !== expected) {
    throw new StsError(
      `${join(dir, manifest[0]?.paths[0] ?? WEIGHTS_BIN)}: holds ${actual} bytes but model.json describes ${expected}: the weights are truncated or belong to another model; copy the model folder again`,
    );
  }
  const buffers: ArrayBuffer[] = [];
  for (const [i, file] of files.entries()) {
    const b = await readRegularFile(file, sizes[i], 'weights file', weightsRemedy);
    buffers.push(b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b.buffer as ArrayBuffer) : (b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
  }
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: tf.io.concatenateArrayBuffers(buffers) }),
    );
  } catch (error) {
    throw new StsError(`${jsonPath}: cannot be loaded as a model (${(error as Error).message}); ${remedy}`);
  }
  const weights = model.getWeights();
  const finite = tf.tidy(() => weights.every((w) => tf.all(tf.isFinite(w)).dataSync()[0] === 1));
  if (!finite) {
    model.dispose();
    throw new StsError(`${dir}: the model's weights hold NaN or infinite values (a diverged training run); train again with a lower --lr`);
  }
  return { model, metadata: (json.userDefinedMetadata ?? {}) as Record<string, unknown> };
}

/**
 * What is wrong with a model.json's weightsManifest, or nothing: groups of file names and weight entries whose
 * shapes are lists of whole numbers and whose types tfjs reads, so that the bytes they describe can be summed.
 */
function manifestProblem(manifest: readonly unknown[]): string | undefined {
  for (const group of manifest as { paths?: unknown; weights?: unknown }[]) {
    if (typeof group !== 'object' || group === null || !Array.isArray(group.paths) || !Array.isArray(group.weights)) return 'has a group without "paths" and "weights" lists';
    for (const spec of group.weights as tf.io.WeightsManifestEntry[]) {
      const shapeOk = Array.isArray(spec?.shape) && spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0);
      if (!shapeOk) return `gives weight ${JSON.stringify(spec?.name)} the shape ${JSON.stringify(spec?.shape)}, not a list of whole numbers`;
      const dtype = spec.quantization ? spec.quantization.dtype : spec.dtype;
      if (!(spec.quantization ? ['uint8', 'uint16', 'float16'] : ['float32', 'int32', 'bool']).includes(dtype)) return `gives weight ${JSON.stringify(spec.name)} the type ${JSON.stringify(dtype)}`;
    }
  }
  return undefined;
}

/** Bytes a manifest entry takes in the weights file (its quantised size when quantised). */
export function weightBytes(spec: tf.io.WeightsManifestEntry): number {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const size = spec.quantization ? { uint8: 1, uint16: 2, float16: 2 }[spec.quantization.dtype as 'uint8' | 'uint16' | 'float16'] : spec.dtype === 'bool' ? 1 : 4;
  return n * size;
}
