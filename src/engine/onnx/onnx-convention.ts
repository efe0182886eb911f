/**
 * How an ONNX segmentation network is fed and read, so that a network trained elsewhere (PyTorch, most often)
 * runs as the pipeline's `SegmentationNetwork`: the pipeline hands out S x S x C rasters of pixel values as the
 * image holds them (0..255 for 8-bit images, as the reference feeds its networks) and wants one S x S foreground
 * probability per input. A network's input layout, S and channels come from its shapes where they are fixed; how
 * its inputs are scaled and whether its output is a logit cannot be read from a graph, so they come from the
 * sidecar: `<model>.onnx.json` beside the file, or the model's `sts` metadata property (what `sts export` writes).
 * Platform-free: Node (onnxruntime-node) and the page (onnxruntime-web) share it.
 *
 * The sidecar, all fields optional except `input` and `output` (docs/onnx.md documents it for users):
 *   { "layout": "NCHW" | "NHWC", "size": 64, "channels": 3,
 *     "input": { "scale": "0-255" } | { "scale": "0-1" } | { "mean": [..], "std": [..] }  (on 0..1 values, as torchvision),
 *     "output": "probability" | "logit",
 *     "inputName": "...", "outputName": "...",
 *     "metadata": { ... }  (what `sts train` records: the training scale of a rough network) }
 */
import { StsError } from '../../errors.js';
import type { Raster } from '../../geometry/raster.js';
import { type OutputKind, networkSizeProblem } from '../../types/network.js';

export type OnnxLayout = 'NCHW' | 'NHWC';
export type OnnxInputScaling = { readonly scale: '0-255' } | { readonly scale: '0-1' } | { readonly mean: readonly number[]; readonly std: readonly number[] };
export type OnnxOutput = 'probability' | 'logit';

export interface OnnxSidecar {
  readonly layout?: OnnxLayout;
  readonly size?: number;
  readonly channels?: number;
  readonly input: OnnxInputScaling;
  readonly output: OnnxOutput;
  readonly inputName?: string;
  readonly outputName?: string;
  readonly metadata?: Record<string, unknown>;
}

/** A tensor's name and shape as ONNX Runtime reports them (a symbolic or unknown dimension is a string or -1). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly shape?: readonly (number | string)[];
}

/** Everything needed to pack inputs for and unpack outputs of one ONNX network. */
export interface OnnxConvention {
  readonly inputName: string;
  readonly outputName: string;
  readonly layout: OnnxLayout;
  readonly size: number;
  readonly channels: number;
  readonly input: OnnxInputScaling;
  readonly output: OnnxOutput;
  /** Maps per pixel: 1 (foreground) or 2 (foreground and object core, an instance network's; src/instances/). */
  readonly outputs: OutputKind;
  readonly metadata: Record<string, unknown>;
}

/** An example sidecar, for the messages that ask for one. */
export const SIDECAR_EXAMPLE = '{"layout": "NCHW", "input": {"scale": "0-255"}, "output": "probability"}';

/** The keys a sidecar may have: any other is a misspelling that would otherwise be ignored without a word. */
export const SIDECAR_KEYS = ['layout', 'size', 'channels', 'input', 'output', 'inputName', 'outputName', 'metadata'] as const;

const quoted = (keys: readonly string[]) => keys.map((k) => `"${k}"`).join(', ');

/** Reads a sidecar's JSON value; `where` names the file (or metadata property) in every message. */
export function parseSidecar(value: unknown, where: string): OnnxSidecar {
  const bad = (problem: string) => new StsError(`${where}: ${problem}; a sidecar looks like ${SIDECAR_EXAMPLE} (see docs/onnx.md)`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('is not a JSON object');
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).filter((k) => !(SIDECAR_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw bad(`unknown key${unknown.length === 1 ? '' : 's'} ${quoted(unknown)} (misspelled?); the keys are ${quoted(SIDECAR_KEYS)}`);
  }
  if (v.layout !== undefined && v.layout !== 'NCHW' && v.layout !== 'NHWC') throw bad(`"layout" must be "NCHW" or "NHWC", got ${JSON.stringify(v.layout)}`);
  for (const key of ['size', 'channels'] as const) {
    if (v[key] !== undefined && !(Number.isInteger(v[key]) && (v[key] as number) > 0)) throw bad(`"${key}" must be a positive whole number, got ${JSON.stringify(v[key])}`);
  }
  const sizeProblem = v.size !== undefined ? networkSizeProblem(v.size as number) : undefined;
  if (sizeProblem) throw bad(`"size" ${v.size}: ${sizeProblem}`);
  if (v.output !== 'probability' && v.output !== 'logit') throw bad(`"output" must be "probability" (a sigmoid ends the network) or "logit", got ${JSON.stringify(v.output)}`);
  const input = v.input as Record<string, unknown> | undefined;
  if (typeof input === 'object' && input !== null) {
    const keys = Object.keys(input);
    const fits = (allowed: string[]) => keys.every((k) => allowed.includes(k));
    if (keys.length > 0 && !fits(['scale']) && !fits(['mean', 'std'])) {
      throw bad(`"input" has the keys ${quoted(keys)}; it takes either "scale" or "mean" with "std"`);
    }
  }
  let scaling: OnnxInputScaling;
  if (input?.scale === '0-255' || input?.scale === '0-1') scaling = { scale: input.scale };
  else if (input && Array.isArray(input.mean) && Array.isArray(input.std)) {
    const numbers = (a: unknown[]) => a.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!numbers(input.mean) || !numbers(input.std) || input.mean.length !== input.std.length || (input.std as number[]).some((s) => s === 0)) {
      throw bad('"input" mean and std must be lists of numbers of one length, std without zeros');
    }
    scaling = { mean: input.mean as number[], std: input.std as number[] };
  } else throw bad(`"input" must say how pixels are scaled: {"scale": "0-255"}, {"scale": "0-1"} or {"mean": [...], "std": [...]}, got ${JSON.stringify(v.input)}`);
  for (const key of ['inputName', 'outputName'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'string') throw bad(`"${key}" must be a string`);
  }
  if (v.metadata !== undefined && (typeof v.metadata !== 'object' || v.metadata === null)) throw bad('"metadata" must be an object');
  return {
    ...(v.layout ? { layout: v.layout as OnnxLayout } : {}),
    ...(v.size ? { size: v.size as number } : {}),
    ...(v.channels ? { channels: v.channels as number } : {}),
    input: scaling,
    output: v.output,
    ...(v.inputName ? { inputName: v.inputName as string } : {}),
    ...(v.outputName ? { outputName: v.outputName as string } : {}),
    ...(v.metadata ? { metadata: v.metadata as Record<string, unknown> } : {}),
  };
}

const fixed = (d: number | string | undefined): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined);

/**
 * The convention of a network with these inputs and outputs under `sidecar`: the layout from the sidecar or from
 * which axis holds 1 or 3 channels, S and channels from the fixed dimensions or the sidecar (which must agree), and
 * an output of one S x S map per input, or two (foreground and object cores) where the output's channel axis says 2. A model that does not fit is named with what was expected.
 */
export function resolveConvention(sidecar: OnnxSidecar, inputs: readonly OnnxValueInfo[], outputs: readonly OnnxValueInfo[], where: string): OnnxConvention {
  const pick = (list: readonly OnnxValueInfo[], name: string | undefined, what: string) => {
    if (name !== undefined) {
      const found = list.find((x) => x.name === name);
      if (!found) throw new StsError(`${where}: has no ${what} named '${name}' (the sidecar names it); its ${what}s are ${list.map((x) => x.name).join(', ')}`);
      return found;
    }
    if (list.length !== 1) throw new StsError(`${where}: has ${list.length} ${what}s (${list.map((x) => x.name).join(', ')}); a segmentation network takes one image batch and gives one map batch: name the one to use with "${what}Name" in the sidecar`);
    return list[0];
  };
  const input = pick(inputs, sidecar.inputName, 'input');
  const output = pick(outputs, sidecar.outputName, 'output');
  const shape = input.shape ?? [];
  if (input.shape && shape.length !== 4) {
    throw new StsError(`${where}: input '${input.name}' has shape [${shape.join(', ')}]; expected 4 dimensions, a batch of square images (N x C x S x S or N x S x S x C)`);
  }
  const [, d1, d2, d3] = shape;
  const channelsAt = (layout: OnnxLayout) => fixed(layout === 'NCHW' ? d1 : d3);
  let layout = sidecar.layout;
  if (!layout) {
    const nchw = [1, 3].includes(fixed(d1) ?? 0);
    const nhwc = [1, 3].includes(fixed(d3) ?? 0);
    if (nchw === nhwc) {
      throw new StsError(`${where}: cannot tell from input shape [${shape.join(', ')}] whether it is NCHW or NHWC; say so with "layout" in the sidecar`);
    }
    layout = nchw ? 'NCHW' : 'NHWC';
  }
  const [h, w] = layout === 'NCHW' ? [fixed(d2), fixed(d3)] : [fixed(d1), fixed(d2)];
  if (h !== undefined && w !== undefined && h !== w) throw new StsError(`${where}: input '${input.name}' is ${h} x ${w}; Segment-then-Segment feeds square S x S inputs`);
  const agree = (what: string, fromShape: number | undefined, fromSidecar: number | undefined): number => {
    if (fromShape !== undefined && fromSidecar !== undefined && fromShape !== fromSidecar) {
      throw new StsError(`${where}: the sidecar says ${what} ${fromSidecar} but input '${input.name}' has ${fromShape} ([${shape.join(', ')}], ${layout})`);
    }
    const v = fromShape ?? fromSidecar;
    if (v === undefined) throw new StsError(`${where}: input '${input.name}' leaves ${what} open ([${shape.join(', ')}]); give "${what}" in the sidecar`);
    return v;
  };
  const size = agree('size', h ?? w, sidecar.size);
  const sizeProblem = networkSizeProblem(size);
  if (sizeProblem) throw new StsError(`${where}: input '${input.name}' is ${size} x ${size}: ${sizeProblem}; give a network with a smaller input`);
  const channels = agree('channels', channelsAt(layout), sidecar.channels);
  if (channels !== 1 && channels !== 3) throw new StsError(`${where}: takes ${channels} channels; Segment-then-Segment feeds gray (1) or RGB (3) images`);
  if ('mean' in sidecar.input && sidecar.input.mean.length !== channels) {
    throw new StsError(`${where}: the sidecar's mean and std have ${sidecar.input.mean.length} values for ${channels} channels`);
  }
  const out = output.shape;
  let maps: OutputKind = 1;
  if (out) {
    // One map per input (N x 1 x S x S, N x S x S x 1 or N x S x S), or an instance network's two (N x 2 x S x S).
    const dims = out.slice(1).map(fixed);
    const mapAxis = dims.length === 3 ? (layout === 'NCHW' ? dims[0] : dims[2]) : 1;
    const ok = dims.length === 2 || (dims.length === 3 && (mapAxis === undefined || mapAxis === 1 || mapAxis === 2));
    const spatial = dims.length === 2 ? dims : layout === 'NCHW' ? dims.slice(1) : dims.slice(0, 2);
    if (!ok || spatial.some((d) => d !== undefined && d !== size)) {
      const expected = layout === 'NCHW' ? `N x 1 x ${size} x ${size}, or N x 2 x ${size} x ${size} with object cores` : `N x ${size} x ${size} x 1, or N x ${size} x ${size} x 2 with object cores`;
      throw new StsError(`${where}: output '${output.name}' has shape [${out.join(', ')}]; expected one ${size} x ${size} foreground map per input (${expected})`);
    }
    if (mapAxis === 2) maps = 2;
  }
  return { inputName: input.name, outputName: output.name, layout, size, channels, input: sidecar.input, output: sidecar.output, outputs: maps, metadata: sidecar.metadata ?? {} };
}

/** One input batch in the network's layout and scaling, from the pipeline's H x W x C rasters. */
export function packBatch(inputs: readonly Raster<Float32Array>[], c: OnnxConvention, where: string): Float32Array {
  const { size, channels } = c;
  const pixels = size * size;
  const batch = new Float32Array(inputs.length * pixels * channels);
  const [mul, add] = scalingOf(c);
  inputs.forEach((x, i) => {
    if (x.width !== size || x.height !== size || x.channels !== channels) {
      throw new StsError(`${where}: input ${i} is ${x.width} x ${x.height} x ${x.channels}; the model takes ${size} x ${size} x ${channels}`);
    }
    const base = i * pixels * channels;
    if (c.layout === 'NHWC') {
      for (let k = 0; k < pixels * channels; k++) batch[base + k] = x.data[k] * mul[k % channels] + add[k % channels];
    } else {
      for (let ch = 0; ch < channels; ch++) {
        const plane = base + ch * pixels;
        for (let p = 0; p < pixels; p++) batch[plane + p] = x.data[p * channels + ch] * mul[ch] + add[ch];
      }
    }
  });
  return batch;
}

/** Per channel y = x * mul + add: the sidecar's scaling of 0..255 pixel values. */
function scalingOf(c: OnnxConvention): [number[], number[]] {
  const n = c.channels;
  if ('mean' in c.input) {
    const { mean, std } = c.input;
    return [mean.map((_, k) => 1 / (255 * std[k])), mean.map((m, k) => -m / std[k])];
  }
  return [Array(n).fill(c.input.scale === '0-1' ? 1 / 255 : 1), Array(n).fill(0)];
}

/**
 * The output batch as one probability map per input (a logit through the sigmoid): S x S, or for a two-map network
 * S x S x 2 with the maps interleaved per pixel, as the pipeline reads them (types/network.ts).
 */
export function unpackMaps(data: Float32Array, count: number, c: OnnxConvention): Float32Array[] {
  const pixels = c.size * c.size;
  const k = c.outputs;
  const maps: Float32Array[] = [];
  for (let i = 0; i < count; i++) {
    let m = data.slice(i * pixels * k, (i + 1) * pixels * k);
    if (k === 2 && c.layout === 'NCHW') {
      const planes = m;
      m = new Float32Array(pixels * 2);
      for (let p = 0; p < pixels; p++) (m[2 * p] = planes[p]), (m[2 * p + 1] = planes[pixels + p]);
    }
    if (c.output === 'logit') for (let j = 0; j < m.length; j++) m[j] = 1 / (1 + Math.exp(-m[j]));
    maps.push(m);
  }
  return maps;
}
