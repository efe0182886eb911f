/**
 * An `.onnx` file as a network, in Node, run by onnxruntime-node on the CPU (its binaries ship in the npm package).
 * The feeding convention comes from the sidecar `<file>.json` when there is one, else from the model's own `sts`
 * metadata property, else the file is refused with what to write (onnx-model.ts, shared with the page).
 */
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { StsError } from '../../errors.js';
import { type OnnxModel, openOnnxModel, sidecarPath } from './onnx-model.js';

export async function loadOnnxModel(path: string, { threads }: { threads: number }): Promise<OnnxModel> {
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new StsError(`${path}: cannot read the ONNX model (${error.code ?? error.message}); give the path of an .onnx file`);
  });
  const sidecarFile = sidecarPath(path);
  const text = await readFile(sidecarFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new StsError(`${sidecarFile}: cannot read the sidecar (${error.code ?? error.message})`);
  });
  return openOnnxModel(bytes, text, {
    path,
    sidecarName: sidecarFile,
    Tensor: ort.Tensor,
    createSession: (model) =>
      ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' }),
  });
}
