/**
 * An `.onnx` file as a network, in Node, run by onnxruntime-node on the CPU (its binaries ship in the npm package).
 * The feeding convention comes from the sidecar `<file>.json` when there is one, else from the model's own `sts`
 * metadata property, else the file is refused with what to write (onnx-convention.ts).
 */
import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { StsError } from '../../errors.js';
import type { DisposableNetwork } from '../../types/network.js';
import { type OnnxConvention, SIDECAR_EXAMPLE, parseSidecar, resolveConvention } from './onnx-convention.js';
import { embeddedSidecar } from './onnx-metadata.js';
import { onnxNetwork } from './onnx-network.js';

export interface OnnxModel {
  readonly path: string;
  readonly convention: OnnxConvention;
  /** Where the convention came from: the sidecar file, or the model's metadata. */
  readonly sidecar: string;
  network(o?: { batchSize?: number }): DisposableNetwork;
  dispose(): void;
}

/** The sidecar file of an ONNX model: `model.onnx` -> `model.onnx.json` (beside it, as Piper and others name it). */
export const sidecarPath = (file: string) => `${file}.json`;

export async function loadOnnxModel(path: string, { threads }: { threads: number }): Promise<OnnxModel> {
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    throw new StsError(`${path}: cannot read the ONNX model (${error.code ?? error.message}); give the path of an .onnx file`);
  });
  const sidecarFile = sidecarPath(path);
  const text = await readFile(sidecarFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new StsError(`${sidecarFile}: cannot read the sidecar (${error.code ?? error.message})`);
  });
  let raw: unknown;
  let where: string;
  if (text !== undefined) {
    where = sidecarFile;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new StsError(`${sidecarFile}: not valid JSON (${(error as Error).message}); a sidecar looks like ${SIDECAR_EXAMPLE}`);
    }
  } else {
    where = `${path} (its 'sts' metadata)`;
    raw = embeddedSidecar(bytes, path);
    if (raw === undefined) {
      throw new StsError(
        `${path}: no sidecar ${sidecarFile} and no 'sts' metadata property: the file does not say how its inputs are scaled or whether it ends in a sigmoid; write ${sidecarFile}, e.g. ${SIDECAR_EXAMPLE} (see docs/onnx.md)`,
      );
    }
  }
  const sidecar = parseSidecar(raw, where);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  } catch (error) {
    throw new StsError(`${path}: ONNX Runtime cannot load it (${(error as Error).message}); give an ONNX model of opset 7 or later`);
  }
  let convention: OnnxConvention;
  try {
    convention = resolveConvention(sidecar, session.inputMetadata.map(info), session.outputMetadata.map(info), path);
  } catch (error) {
    await session.release();
    throw error;
  }
  let handedOut = false;
  return {
    path,
    convention,
    sidecar: where,
    network({ batchSize } = {}) {
      if (handedOut) throw new StsError(`${path}: its network was made already`);
      handedOut = true;
      return onnxNetwork(ort.Tensor, session, convention, { batchSize, where: path });
    },
    dispose() {
      if (!handedOut) void session.release();
      handedOut = true;
    },
  };
}

function info(m: ort.InferenceSession.ValueMetadata): { name: string; shape?: readonly (number | string)[] } {
  return m.isTensor ? { name: m.name, shape: m.shape } : { name: m.name };
}
