/**
 * `sts export --onnx <model folder> --out model.onnx`: a model of `sts train` as ONNX (models/onnx-export.ts) with
 * its sidecar `model.onnx.json`, checked before it is kept: ONNX Runtime runs the exported graph on a few inputs and
 * its maps must equal TensorFlow.js's, so a file that computes something else is never written.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import ort from 'onnxruntime-node';
import { initEngine } from '../../engine/backend.js';
import { loadModel } from '../../engine/model-files.js';
import { sidecarPath } from '../../engine/onnx/onnx-model.js';
import { ArgumentError, StsError } from '../../errors.js';
import { ensureWritableFolder, writeAtomically } from '../../io/atomic-write.js';
import { onnxOfModel } from '../../models/onnx-export.js';
import { packageRoot } from '../../paths.js';
import { modelInputShape } from '../../pipeline/model-network.js';

export interface ExportCommandOptions {
  /** The model folder to export. */
  readonly onnx: string;
  readonly out: string;
}

/** Largest difference allowed between ONNX Runtime's and TensorFlow.js's probabilities on the check inputs. */
const TOLERANCE = 1e-4;

export async function runExport(o: ExportCommandOptions, log: (line: string) => void = console.log): Promise<{ maxDifference: number }> {
  if (!/\.onnx$/i.test(o.out)) throw new ArgumentError('--out', `must end in .onnx (got '${o.out}'); the sidecar goes beside it as <file>.json`);
  await ensureWritableFolder(dirname(o.out));
  const engine = await initEngine({ warn: log });
  const { model, metadata } = await loadModel(o.onnx);
  try {
    const { size, channels } = modelInputShape(model);
    const sidecar = { layout: 'NCHW', size, channels, input: { scale: '0-255' }, output: 'probability', metadata };
    const version = (JSON.parse(await readFile(`${packageRoot}package.json`, 'utf8')) as { version: string }).version;
    const bytes = await onnxOfModel(model, { sidecar, producerVersion: version });

    // The check: the same random 0..255 inputs through both, NCHW for ONNX Runtime.
    const n = 4;
    const x = tf.randomUniform([n, size, size, channels], 0, 255, 'float32', 2023);
    // The model's maps in the graph's layout: N x K x S x S (K = 2 for an instance network's foreground and cores).
    const expected = tf.tidy(() => tf.transpose(model.predict(x) as tf.Tensor, [0, 3, 1, 2]).dataSync() as Float32Array);
    const maps = (model.outputs[0].shape[3] as number) ?? 1;
    const nchw = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array);
    x.dispose();
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: engine.threads });
    const got = (await session.run({ input: new ort.Tensor('float32', nchw, [n, channels, size, size]) })).output.data as Float32Array;
    await session.release();
    let maxDifference = 0;
    for (let k = 0; k < expected.length; k++) maxDifference = Math.max(maxDifference, Math.abs(expected[k] - got[k]));
    if (!(maxDifference <= TOLERANCE)) {
      throw new StsError(`${o.onnx}: the exported graph's maps differ from the model's by up to ${maxDifference.toExponential(2)} (allowed ${TOLERANCE}); nothing was written. This is a bug in sts export: please report it with the model`);
    }
    await writeAtomically(sidecarPath(o.out), (tmp) => writeFile(tmp, `${JSON.stringify(sidecar, null, 2)}\n`));
    await writeAtomically(o.out, (tmp) => writeFile(tmp, bytes));
    log(`wrote ${o.out} (${(bytes.length / 1e6).toFixed(1)} MB, opset 13, input N x ${channels} x ${size} x ${size} on 0..255, output N x ${maps} x ${size} x ${size} probabilities${maps === 2 ? ': foreground and object cores' : ''}) and ${sidecarPath(o.out)}`);
    log(`checked: ONNX Runtime's maps equal TensorFlow.js's within ${maxDifference.toExponential(1)} on ${n} random inputs`);
    return { maxDifference };
  } finally {
    model.dispose();
  }
}
