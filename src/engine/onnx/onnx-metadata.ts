/**
 * The sidecar an ONNX model carries in itself: its `sts` metadata property (what `sts export` writes), read with
 * onnx-proto's generated decoder. Platform-free. Decoding parses the whole model once, so callers read a sidecar
 * file first when there is one.
 */
import onnxProto from 'onnx-proto';
import { StsError } from '../../errors.js';

const { onnx } = onnxProto;

/** The metadata property that holds the sidecar's JSON. */
export const SIDECAR_PROPERTY = 'sts';

/** The model's `sts` property parsed as JSON, or undefined when it has none; `where` names the file. */
export function embeddedSidecar(bytes: Uint8Array, where: string): unknown {
  let model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new StsError(`${where}: not an ONNX model (${(error as Error).message}); give a .onnx file as torch.onnx.export or sts export writes it`);
  }
  const entry = model.metadataProps.find((p) => p.key === SIDECAR_PROPERTY);
  if (!entry?.value) return undefined;
  try {
    return JSON.parse(entry.value);
  } catch {
    throw new StsError(`${where}: its '${SIDECAR_PROPERTY}' metadata property is not JSON; give a sidecar file ${where}.json instead`);
  }
}
