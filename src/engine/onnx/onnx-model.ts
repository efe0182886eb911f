/**
 * An ONNX model's bytes (and its sidecar's text, when there is one) as a model that knows its convention and makes
 * the pipeline's network. Platform-free: Node reads the two files and passes onnxruntime-node's session factory
 * (load-onnx.ts), the page passes the user's picked files and onnxruntime-web's, so both decide the convention,
 * report a missing sidecar and hand out the network the same way.
 */
import { StsError } from '../../errors.js';
import type { DisposableNetwork } from '../../types/network.js';
import { type OnnxConvention, SIDECAR_EXAMPLE, parseSidecar, resolveConvention } from './onnx-convention.js';
import { type OnnxModelInfo, describeSupport, inspectOnnxModel, onnxRuntimeSupport, runtimeMessage, runtimeSupportProblem } from './onnx-metadata.js';
import { type OnnxSessionLike, type OnnxTensorConstructor, onnxNetwork } from './onnx-network.js';

export interface OnnxModel {
  readonly path: string;
  readonly convention: OnnxConvention;
  /** Where the convention came from: the sidecar file, or the model's metadata. */
  readonly sidecar: string;
  network(o?: { batchSize?: number }): DisposableNetwork;
  dispose(): void;
}

/** A tensor's name and shape as onnxruntime-common's `InferenceSession.inputMetadata` reports them. */
export interface OnnxValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly shape?: readonly (number | string)[];
}

export interface OnnxSessionWithMetadata<T> extends OnnxSessionLike<T> {
  readonly inputMetadata: readonly OnnxValueMetadata[];
  readonly outputMetadata: readonly OnnxValueMetadata[];
}

export interface OnnxModelOptions<T> {
  /** Names the model in messages (its file). */
  readonly path: string;
  /** Names the sidecar in messages (`<file>.json`, or the file the user picked). */
  readonly sidecarName: string;
  readonly Tensor: OnnxTensorConstructor<T>;
  /** Makes the runtime's session; `info` says whether the model keeps data in files beside it. */
  createSession(bytes: Uint8Array, info: OnnxModelInfo): Promise<OnnxSessionWithMetadata<T>>;
  /**
   * The runtime's version (onnxruntime-node's or -web's `env.versions`): a model newer than that runtime reads is
   * refused by name, with what it reads and what to do, before a session is tried.
   */
  readonly runtimeVersion?: string;
  /** Checks what the model names outside itself (Node: its external data files) before a session is made. */
  checkModel?(info: OnnxModelInfo): Promise<void>;
}

/** The sidecar file of an ONNX model: `model.onnx` -> `model.onnx.json` (beside it, as Piper and others name it). */
export const sidecarPath = (file: string) => `${file}.json`;

/**
 * Opens the model: its IR version and opsets checked against the runtime, the convention from `sidecarText` when
 * given, else from the model's own `sts` metadata property, else refused with what to write; then a session,
 * checked against the convention before anything runs.
 */
export async function openOnnxModel<T>(bytes: Uint8Array, sidecarText: string | undefined, o: OnnxModelOptions<T>): Promise<OnnxModel> {
  const { path, sidecarName } = o;
  const info = inspectOnnxModel(bytes, path);
  const support = onnxRuntimeSupport(o.runtimeVersion);
  const tooNew = support && runtimeSupportProblem(info, support, path);
  if (tooNew) throw new StsError(tooNew);
  let raw: unknown;
  let where: string;
  if (sidecarText !== undefined) {
    where = sidecarName;
    try {
      raw = JSON.parse(sidecarText);
    } catch (error) {
      throw new StsError(`${sidecarName}: not valid JSON (${(error as Error).message}); a sidecar looks like ${SIDECAR_EXAMPLE}`);
    }
  } else {
    where = `${path} (its 'sts' metadata)`;
    raw = info.sidecar;
    if (raw === undefined) {
      throw new StsError(
        `${path}: no sidecar ${sidecarName} and no 'sts' metadata property: the file does not say how its inputs are scaled or whether it ends in a sigmoid; write ${sidecarName}, e.g. ${SIDECAR_EXAMPLE} (see docs/onnx.md)`,
      );
    }
  }
  const sidecar = parseSidecar(raw, where);
  await o.checkModel?.(info);
  let session: OnnxSessionWithMetadata<T>;
  try {
    session = await o.createSession(bytes, info);
  } catch (error) {
    const reads = support ? ` (${support.name} reads ${describeSupport(support)})` : '';
    throw new StsError(`${path}: ${support?.name ?? 'ONNX Runtime'} cannot load it (${runtimeMessage((error as Error).message)}); give an ONNX model as torch.onnx.export or sts export writes it${reads}`);
  }
  let convention: OnnxConvention;
  try {
    convention = resolveConvention(sidecar, session.inputMetadata.map(valueInfo), session.outputMetadata.map(valueInfo), path);
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
      return onnxNetwork(o.Tensor, session, convention, { batchSize, where: path });
    },
    dispose() {
      if (!handedOut) void session.release();
      handedOut = true;
    },
  };
}

function valueInfo(m: OnnxValueMetadata): { name: string; shape?: readonly (number | string)[] } {
  return m.isTensor && m.shape ? { name: m.name, shape: m.shape } : { name: m.name };
}
