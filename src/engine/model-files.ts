/**
 * TensorFlow.js models as files: `model.json` + `weights.bin` in a folder, the layout `tf.loadLayersModel` reads
 * over HTTP, so the browser loads what Node trained unchanged. Folders are written atomically (io/atomic-write.ts),
 * so a crash never leaves a half-written model where a complete one is expected.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { StsError } from '../errors.js';
import { writeFolderAtomically } from '../io/atomic-write.js';
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

/** Reads a model folder written by `saveModel` (or any single-shard tfjs layers model). */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const jsonPath = join(dir, MODEL_JSON);
  const remedy = "give a model folder written by 'sts train' (model.json + weights.bin)";
  const json = await readJsonFile<tf.io.ModelJSON>(jsonPath, remedy);
  if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object' || !Array.isArray(json.weightsManifest)) {
    throw new StsError(`${jsonPath}: not a TensorFlow.js layers model (no modelTopology and weightsManifest); ${remedy}`);
  }
  const manifest = json.weightsManifest;
  const specs = manifest.flatMap((group) => group.weights);
  const buffers = await Promise.all(
    manifest.flatMap((group) => group.paths).map(async (p) => {
      const b = await readFile(join(dir, p)).catch((error: Error) => {
        throw new StsError(`${join(dir, p)}: missing model weights (${error.message})`);
      });
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    }),
  );
  const expected = specs.reduce((n, s) => n + weightBytes(s), 0);
  const actual = buffers.reduce((n, b) => n + b.byteLength, 0);
  if (actual !== expected) {
    throw new StsError(
      `${join(dir, manifest[0]?.paths[0] ?? WEIGHTS_BIN)}: holds ${actual} bytes but model.json describes ${expected}: the weights are truncated or belong to another model; copy the model folder again`,
    );
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

/** Bytes a manifest entry takes in the weights file (its quantised size when quantised). */
export function weightBytes(spec: tf.io.WeightsManifestEntry): number {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const size = spec.quantization ? { uint8: 1, uint16: 2, float16: 2 }[spec.quantization.dtype as 'uint8' | 'uint16' | 'float16'] : spec.dtype === 'bool' ? 1 : 4;
  return n * size;
}
