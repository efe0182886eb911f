/**
 * What an ONNX model says about itself, read with onnx-proto's generated decoder before any runtime sees it: its IR
 * version and opsets (so that a model too new for the installed ONNX Runtime is named with what it reads and what
 * to do, instead of the runtime's C++ message), the sidecar it carries in its `sts` metadata property (what
 * `sts export` writes), and the external data files its tensors name (which the Node loader confines to the
 * model's folder). Platform-free: the page decodes the same way.
 */
import onnxProto from 'onnx-proto';
import { StsError } from '../../errors.js';

const { onnx } = onnxProto;

/** The metadata property that holds the sidecar's JSON. */
export const SIDECAR_PROPERTY = 'sts';

/** One tensor's data kept outside the model file (ONNX's external data: `location` relative to the model). */
export interface OnnxExternalData {
  readonly tensor: string;
  readonly location: string;
  readonly offset: number;
  /** Bytes, when the model says. */
  readonly length?: number;
}

export interface OnnxModelInfo {
  readonly irVersion: number;
  /** The opsets the model imports; the default domain is named 'ai.onnx' (the file writes it as ''). */
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  /** The `sts` metadata property parsed as JSON, or undefined when the model has none. */
  readonly sidecar: unknown;
  readonly externalData: readonly OnnxExternalData[];
}

type Int64 = number | { toNumber(): number } | null | undefined;
const toNumber = (v: Int64): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());

/** Decodes the model once and reads what the loaders check; `where` names the file in every message. */
export function inspectOnnxModel(bytes: Uint8Array, where: string): OnnxModelInfo {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new StsError(`${where}: not an ONNX model (${(error as Error).message}); give a .onnx file as torch.onnx.export or sts export writes it`);
  }
  const opsets = model.opsetImport.map((o) => ({ domain: o.domain ? o.domain : 'ai.onnx', version: toNumber(o.version as Int64) }));
  const entry = model.metadataProps.find((p) => p.key === SIDECAR_PROPERTY);
  let sidecar: unknown;
  if (entry?.value) {
    try {
      sidecar = JSON.parse(entry.value);
    } catch {
      throw new StsError(`${where}: its '${SIDECAR_PROPERTY}' metadata property is not JSON; give a sidecar file ${where}.json instead`);
    }
  }
  return { irVersion: toNumber(model.irVersion as Int64), opsets, sidecar, externalData: externalDataOf(model) };
}

/** The model's `sts` property parsed as JSON, or undefined when it has none; `where` names the file. */
export function embeddedSidecar(bytes: Uint8Array, where: string): unknown {
  return inspectOnnxModel(bytes, where).sidecar;
}

type Tensor = InstanceType<typeof onnx.TensorProto>;
type Graph = { initializer?: Tensor[] | null; sparseInitializer?: { values?: Tensor | null; indices?: Tensor | null }[] | null; node?: Node[] | null };
type Node = { attribute?: Attribute[] | null };
type Attribute = { t?: Tensor | null; tensors?: Tensor[] | null; g?: Graph | null; graphs?: Graph[] | null; sparseTensor?: { values?: Tensor | null; indices?: Tensor | null } | null; sparseTensors?: { values?: Tensor | null; indices?: Tensor | null }[] | null };

/** Every tensor stored outside the file: initializers, constants in node attributes, subgraphs and functions. */
function externalDataOf(model: InstanceType<typeof onnx.ModelProto>): OnnxExternalData[] {
  const found: OnnxExternalData[] = [];
  const tensor = (t: Tensor | null | undefined) => {
    if (!t || t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return;
    const field = (key: string) => t.externalData.find((e) => e.key === key)?.value ?? undefined;
    const length = field('length');
    found.push({ tensor: t.name, location: field('location') ?? '', offset: Number(field('offset') ?? 0), ...(length !== undefined ? { length: Number(length) } : {}) });
  };
  const sparse = (s: { values?: Tensor | null; indices?: Tensor | null } | null | undefined) => {
    tensor(s?.values);
    tensor(s?.indices);
  };
  const nodes = (list: Node[] | null | undefined) => {
    for (const n of list ?? []) {
      for (const a of n.attribute ?? []) {
        tensor(a.t);
        (a.tensors ?? []).forEach(tensor);
        sparse(a.sparseTensor);
        (a.sparseTensors ?? []).forEach(sparse);
        if (a.g) graph(a.g);
        (a.graphs ?? []).forEach(graph);
      }
    }
  };
  const graph = (g: Graph) => {
    (g.initializer ?? []).forEach(tensor);
    (g.sparseInitializer ?? []).forEach(sparse);
    nodes(g.node);
  };
  if (model.graph) graph(model.graph as Graph);
  for (const f of model.functions) nodes(f.node as Node[]);
  return found;
}

/** What one ONNX Runtime release reads: the newest IR version and, per opset domain, the newest opset. */
export interface OnnxRuntimeSupport {
  readonly name: string;
  readonly maxIrVersion: number;
  readonly maxOpsets: Readonly<Record<string, number>>;
}

/**
 * The releases whose limits were measured (test/engine/onnx.test.ts checks the installed onnxruntime-node against
 * its row, so an upgrade that changes them fails until this table says so). Domains not listed (custom operators)
 * are left to the runtime.
 */
const RUNTIME_SUPPORT: Readonly<Record<string, Omit<OnnxRuntimeSupport, 'name'>>> = {
  '1.30': { maxIrVersion: 13, maxOpsets: { 'ai.onnx': 26, 'ai.onnx.ml': 5 } },
};

/** The limits of ONNX Runtime `version` (e.g. '1.30.0'), when measured. */
export function onnxRuntimeSupport(version: string | undefined): OnnxRuntimeSupport | undefined {
  const minor = /^(\d+\.\d+)/.exec(version ?? '')?.[1];
  const row = minor ? RUNTIME_SUPPORT[minor] : undefined;
  return row ? { name: `ONNX Runtime ${minor}`, ...row } : undefined;
}

/** What the runtime reads, said in one phrase for messages. */
export function describeSupport(s: OnnxRuntimeSupport): string {
  return `IR versions up to ${s.maxIrVersion} and opsets up to ${Object.entries(s.maxOpsets).map(([d, v]) => `${d} ${v}`).join(', ')}`;
}

/** How to get a model the runtime reads, for the messages that refuse one. */
export const OLDER_EXPORT_ADVICE =
  'export it again with an older opset (torch.onnx.export(..., opset_version=17)) or an older onnx package, or convert it ' +
  '(Python: model = onnx.version_converter.convert_version(model, 17); model.ir_version = 10; onnx.save(model, path)), ' +
  'or run it with a newer ONNX Runtime';

/** Why `support`'s runtime cannot read the model, said with what it reads and what to do; undefined when it can. */
export function runtimeSupportProblem(info: OnnxModelInfo, support: OnnxRuntimeSupport, where: string): string | undefined {
  const tooNew: string[] = [];
  if (info.irVersion > support.maxIrVersion) tooNew.push(`ONNX IR version ${info.irVersion}`);
  for (const { domain, version } of info.opsets) {
    const max = support.maxOpsets[domain];
    if (max !== undefined && version > max) tooNew.push(`opset ${version} of ${domain}`);
  }
  if (tooNew.length === 0) return undefined;
  return `${where}: ${tooNew.join(' and ')} ${tooNew.length === 1 ? 'is' : 'are'} newer than the installed ${support.name} reads (${describeSupport(support)}); ${OLDER_EXPORT_ADVICE}`;
}

/**
 * The runtime's own words without the C++ source location and function signature it starts with
 * ("/onnxruntime_src/...model.cc:202 onnxruntime::Model::Model(...) Unsupported model IR version: 14, ...").
 */
export function runtimeMessage(message: string): string {
  const m = /^\S+:\d+ [^(]*\((?:[^()]|\([^()]*\))*\) ([\s\S]*)$/.exec(message.trim());
  return (m ? m[1] : message).trim();
}
