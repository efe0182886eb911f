/**
 * An `.onnx` file as a network, in Node, run by onnxruntime-node on the CPU (its binaries ship in the npm package).
 * The feeding convention comes from the sidecar `<file>.json` when there is one, else from the model's own `sts`
 * metadata property, else the file is refused with what to write (onnx-model.ts, shared with the page).
 *
 * The model, its sidecar and its external data are read as regular files with a bound; external data files are
 * taken only from the model's own folder (a location that leaves it, or a link out, is refused by name), and a
 * model that has them is loaded from its path, so that ONNX Runtime finds them beside the model whatever the
 * working directory (loaded from memory, it looked them up in the working directory).
 */
import { lstat } from 'node:fs/promises';
import { dirname } from 'node:path';
import ort from 'onnxruntime-node';
import { StsError } from '../../errors.js';
import { confinedPath, readRegularFile, regularFileSize } from '../../io/confined-file.js';
import type { OnnxModelInfo } from './onnx-metadata.js';
import { type OnnxModel, openOnnxModel, sidecarPath } from './onnx-model.js';

/** Protocol buffers cannot exceed 2 GiB: larger models keep their weights as external data. */
const MAX_ONNX_BYTES = 2 * 2 ** 30;
/** A sidecar is a few lines of JSON (with the training metadata, a few kB). */
const MAX_SIDECAR_BYTES = 2 ** 20;

export async function loadOnnxModel(path: string, { threads }: { threads: number }): Promise<OnnxModel> {
  const bytes = await readRegularFile(path, MAX_ONNX_BYTES, 'ONNX model', 'give the path of an .onnx file');
  const sidecarFile = sidecarPath(path);
  const hasSidecar = await lstat(sidecarFile).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw new StsError(`${sidecarFile}: cannot read the sidecar (${error.code ?? error.message})`);
    },
  );
  const text = hasSidecar ? (await readRegularFile(sidecarFile, MAX_SIDECAR_BYTES, 'sidecar', 'write the sidecar as a small JSON file (see docs/onnx.md)')).toString('utf8') : undefined;
  const options = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' } as const;
  return openOnnxModel(bytes, text, {
    path,
    sidecarName: sidecarFile,
    Tensor: ort.Tensor,
    runtimeVersion: ort.env.versions.node,
    checkModel: (info) => checkExternalData(path, info),
    // From the path when data lies beside the model: ONNX Runtime then resolves it against the model's folder.
    createSession: (model, info) => (info.externalData.length > 0 ? ort.InferenceSession.create(path, options) : ort.InferenceSession.create(model, options)),
  });
}

/**
 * Each external data file the model names lies inside the model's folder, is a regular file, and holds the bytes
 * the model reads from it; a location that leaves the folder is refused without touching its target.
 */
async function checkExternalData(path: string, info: OnnxModelInfo): Promise<void> {
  const remedy = 'keep the external data files in the model\'s folder and name them by file name (onnx.save_model(model, path, save_as_external_data=True, location="model.onnx.data"))';
  for (const d of info.externalData) {
    const what = `external data file (of tensor '${d.tensor}')`;
    const file = await confinedPath(dirname(path), d.location, { namedBy: path, what, remedy });
    const size = await regularFileSize(file, what, remedy);
    const end = d.offset + (d.length ?? 0);
    if (!Number.isSafeInteger(d.offset) || d.offset < 0 || !Number.isSafeInteger(end) || end < d.offset || end > size) {
      throw new StsError(`${file}: holds ${size} bytes but ${path} reads tensor '${d.tensor}' from bytes ${d.offset} to ${end} of it; copy the model and its data files again`);
    }
  }
}
