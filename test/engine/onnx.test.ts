/**
 * ONNX models in: the reference's U-Net exported from PyTorch (scripts/make_onnx_unet_fixture.py) runs in our
 * pipeline as it runs in PyTorch; the sidecar's layouts, scalings and output kinds on small graphs built here; and
 * the named errors for a model that does not fit or says nothing of how it is fed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { openNetworkModel } from '../../src/catalog/network-model.js';
import { parseSidecar, resolveConvention } from '../../src/engine/onnx/onnx-convention.js';
import { onnxRuntimeSupport } from '../../src/engine/onnx/onnx-metadata.js';
import type { Raster } from '../../src/geometry/raster.js';
import { packageRoot } from '../../src/paths.js';
import { segmentThenSegment } from '../../src/pipeline/segment-then-segment.js';
import { outputsOf } from '../../src/types/network.js';
import '../support/engine.js';

const { onnx } = onnxProto;
const FIXTURE = join(packageRoot, 'test/fixtures/onnx');

interface Outputs {
  size: number;
  channels: number;
  inputs: number[][];
  outputs: number[][];
}

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let k = 0; k < a.length; k++) d = Math.max(d, Math.abs(a[k] - b[k]));
  return d;
};

/** A one-node ONNX graph `output = op(input)` with the given shapes, written to `dir/name.onnx`. */
function writeGraph(
  dir: string,
  name: string,
  o: {
    op: string;
    input: (number | string)[];
    output: (number | string)[];
    attributes?: InstanceType<typeof onnx.AttributeProto>[];
    extraInputs?: [string, number[]][];
    irVersion?: number;
    opsets?: { domain: string; version: number }[];
    /** Float initializers fed to the node after the input, each with its external data location, offset and length. */
    external?: { name: string; location: string; offset?: number; length?: number }[];
  },
): string {
  const dims = (shape: (number | string)[]) => shape.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  const info = (n: string, shape: (number | string)[]) =>
    onnx.ValueInfoProto.create({ name: n, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims(shape) } } } });
  const initializer = (o.extraInputs ?? []).map(([n, values]) => onnx.TensorProto.create({ name: n, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values }));
  for (const e of o.external ?? []) {
    const data = [['location', e.location], ['offset', String(e.offset ?? 0)], ['length', String(e.length ?? 4)]].map(([key, value]) => onnx.StringStringEntryProto.create({ key, value }));
    initializer.push(onnx.TensorProto.create({ name: e.name, dims: [1], dataType: onnx.TensorProto.DataType.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: data }));
  }
  const model = onnx.ModelProto.create({
    irVersion: o.irVersion ?? 7,
    opsetImport: o.opsets ?? [{ domain: '', version: 13 }],
    graph: {
      name,
      node: [{ opType: o.op, input: ['input', ...(o.extraInputs ?? []).map(([n]) => n), ...(o.external ?? []).map((e) => e.name)], output: ['output'], attribute: o.attributes ?? [] }],
      initializer,
      input: [info('input', o.input)],
      output: [info('output', o.output)],
    },
  });
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, onnx.ModelProto.encode(model).finish());
  return path;
}

const raster = (data: Float32Array, size: number, channels: number): Raster<Float32Array> => ({ width: size, height: size, channels, data });

describe('ONNX models in', () => {
  const fixture = JSON.parse(gunzipSync(readFileSync(join(FIXTURE, 'reference-unet-outputs.json.gz'))).toString('utf8')) as Outputs;

  it("runs the reference U-Net exported from PyTorch with PyTorch's maps (within 1e-4)", async () => {
    const model = await openNetworkModel(join(FIXTURE, 'reference-unet.onnx'));
    assert.deepEqual([model.format, model.size, model.channels], ['onnx', fixture.size, fixture.channels]);
    const network = model.network({ batchSize: 2 }); // two calls, so batching is exercised too
    const maps = await network(fixture.inputs.map((x) => raster(Float32Array.from(x), fixture.size, fixture.channels)));
    network.dispose();
    assert.equal(maps.length, fixture.outputs.length);
    maps.forEach((m, i) => assert.ok(maxDifference(m, fixture.outputs[i]) < 1e-4, `map ${i} differs by ${maxDifference(m, fixture.outputs[i])}`));
  });

  it("is the rough and fine network of Algorithm 1: the rough map of an S x S image is PyTorch's", async () => {
    const [rough, fine] = [await openNetworkModel(join(FIXTURE, 'reference-unet.onnx')), await openNetworkModel(join(FIXTURE, 'reference-unet.onnx'))];
    const S = fixture.size;
    const image = { width: S, height: S, channels: fixture.channels, data: Uint8Array.from(fixture.inputs[0].map(Math.round)) };
    const result = await segmentThenSegment(image, { size: S, rough: rough.network(), fine: fine.network() });
    // The inputs are whole 8-bit values already, so rounding them changes nothing the network sees.
    assert.ok(maxDifference(result.rough.data, fixture.outputs[0]) < 1e-4);
    const above = fixture.outputs[0].filter((p) => p > 0.5).length;
    assert.ok(above > 0, 'the fixture has foreground to find');
    assert.ok(result.boxes.length > 0);
    assert.equal(result.mask.data.length, S * S);
  });

  it('feeds NHWC, 0..1 and mean/std inputs and reads logits as the sidecar says', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-onnx-'));
    const S = 8;
    // NHWC, one channel, identity: the output is what went in, so the scaling and the sigmoid are seen exactly.
    const identity = writeGraph(dir, 'identity', { op: 'Identity', input: ['n', S, S, 1], output: ['n', S, S, 1] });
    writeFileSync(`${identity}.json`, JSON.stringify({ input: { scale: '0-1' }, output: 'logit' }));
    const a = await openNetworkModel(identity);
    assert.deepEqual([a.size, a.channels], [S, 1]);
    const x = Float32Array.from({ length: S * S }, (_, k) => (k * 4) % 256);
    const [y] = await a.network()([raster(x, S, 1)]);
    assert.ok(maxDifference(y, x.map((v) => 1 / (1 + Math.exp(-v / 255)))) < 1e-6);

    // NCHW, three channels summed: sum over c of (x_c / 255 - mean_c) / std_c, so the channel order shows too.
    const sum = writeGraph(dir, 'sum', { op: 'ReduceSum', input: ['n', 3, S, S], output: ['n', 1, S, S], extraInputs: [['axes', [1]]], attributes: [onnx.AttributeProto.create({ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 })] });
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    writeFileSync(`${sum}.json`, JSON.stringify({ input: { mean, std }, output: 'probability' }));
    const b = await openNetworkModel(sum);
    const rgb = Float32Array.from({ length: S * S * 3 }, (_, k) => (k * 37) % 256);
    const [z] = await b.network()([raster(rgb, S, 3)]);
    const expected = new Float32Array(S * S).map((_, p) => [0, 1, 2].reduce((acc, c) => acc + (rgb[p * 3 + c] / 255 - mean[c]) / std[c], 0));
    assert.ok(maxDifference(z, expected) < 1e-4);
  });

  it("reads an instance network's two maps (N x 2 x S x S, or N x S x S x 2) interleaved per pixel, and says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-onnx-two-'));
    const S = 8;
    const sidecar = JSON.stringify({ input: { scale: '0-255' }, output: 'probability' });
    const x = Float32Array.from({ length: S * S }, (_, k) => (k * 3) % 256);
    // Pad appends a zero map after the input along the map axis: foreground = the input, core = 0, so a reader that
    // takes the planes for pixels (or the pixels for planes) sees zeros where the input should be.
    const cases = [
      { name: 'nchw', input: ['n', 1, S, S], output: ['n', 2, S, S], pads: [0, 0, 0, 0, 0, 1, 0, 0] },
      { name: 'nhwc', input: ['n', S, S, 1], output: ['n', S, S, 2], pads: [0, 0, 0, 0, 0, 0, 0, 1] },
    ];
    for (const c of cases) {
      const path = writeGraph(dir, c.name, { op: 'Pad', input: c.input, output: c.output, extraInputs: [['pads', c.pads]] });
      writeFileSync(`${path}.json`, sidecar);
      const network = (await openNetworkModel(path)).network();
      assert.equal(outputsOf(network), 2, c.name);
      const [y] = await network([raster(x, S, 1), raster(x, S, 1)]);
      assert.equal(y.length, S * S * 2, c.name);
      assert.deepEqual(Array.from({ length: S * S }, (_, p) => y[2 * p]), Array.from(x), `${c.name}: foreground`);
      assert.ok(Array.from({ length: S * S }, (_, p) => y[2 * p + 1]).every((v) => v === 0), `${c.name}: cores`);
    }
  });

  it('names a model that does not fit, with what was expected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-onnx-bad-'));
    const sidecar = { input: { scale: '0-255' }, output: 'probability' };
    const cases: [string, Parameters<typeof writeGraph>[2], RegExp][] = [
      ['three-maps', { op: 'Identity', input: ['n', 3, 16, 16], output: ['n', 3, 16, 16] }, /output 'output' has shape \[n, 3, 16, 16\]; expected one 16 x 16 foreground map per input \(N x 1 x 16 x 16, or N x 2 x 16 x 16 with object cores\)/],
      ['not-square', { op: 'Identity', input: ['n', 1, 16, 24], output: ['n', 1, 16, 24] }, /input 'input' is 16 x 24; Segment-then-Segment feeds square S x S inputs/],
      ['rank-3', { op: 'Identity', input: ['n', 16, 16], output: ['n', 16, 16] }, /input 'input' has shape \[n, 16, 16\]; expected 4 dimensions/],
      ['ambiguous', { op: 'Identity', input: ['n', 'c', 'h', 'w'], output: ['n', 1, 'h', 'w'] }, /cannot tell from input shape \[n, c, h, w\] whether it is NCHW or NHWC; say so with "layout" in the sidecar/],
    ];
    for (const [name, graph, message] of cases) {
      const path = writeGraph(dir, name, graph);
      writeFileSync(`${path}.json`, JSON.stringify(sidecar));
      await assert.rejects(openNetworkModel(path), (e: Error) => e.message.includes(path) && message.test(e.message), name);
    }
    // Open spatial dimensions need the size from the sidecar, and it must agree with fixed ones.
    const open = writeGraph(dir, 'open', { op: 'Identity', input: ['n', 1, 'h', 'w'], output: ['n', 1, 'h', 'w'] });
    writeFileSync(`${open}.json`, JSON.stringify(sidecar));
    await assert.rejects(openNetworkModel(open), /leaves size open \(\[n, 1, h, w\]\); give "size" in the sidecar/);
    writeFileSync(`${open}.json`, JSON.stringify({ ...sidecar, size: 16 }));
    assert.equal((await openNetworkModel(open)).size, 16);
    assert.throws(() => resolveConvention(parseSidecar({ ...sidecar, size: 32 }, 'x.json'), [{ name: 'i', shape: [1, 3, 16, 16] }], [{ name: 'o', shape: [1, 1, 16, 16] }], 'x.onnx'), /the sidecar says size 32 but input 'i' has 16/);
  });

  it('refuses a model without a sidecar, a sidecar that says the wrong things, and a file that is not ONNX, by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-onnx-sidecar-'));
    const bare = join(dir, 'unet.onnx');
    copyFileSync(join(FIXTURE, 'reference-unet.onnx'), bare);
    await assert.rejects(openNetworkModel(bare), (e: Error) => e.message.startsWith(`${bare}: no sidecar ${bare}.json and no 'sts' metadata property`) && /write .*unet\.onnx\.json, e\.g\. \{"layout": "NCHW"/.test(e.message));
    writeFileSync(`${bare}.json`, '{"input": {"scale": "0-255"}');
    await assert.rejects(openNetworkModel(bare), new RegExp(`${bare}\\.json: not valid JSON`));
    writeFileSync(`${bare}.json`, JSON.stringify({ input: { scale: '0-65535' }, output: 'probability' }));
    await assert.rejects(openNetworkModel(bare), /unet\.onnx\.json: "input" must say how pixels are scaled/);
    writeFileSync(`${bare}.json`, JSON.stringify({ input: { scale: '0-255' }, output: 'softmax' }));
    await assert.rejects(openNetworkModel(bare), /unet\.onnx\.json: "output" must be "probability" \(a sigmoid ends the network\) or "logit", got "softmax"/);
    writeFileSync(`${bare}.json`, JSON.stringify({ layout: 'NHWC', input: { scale: '0-255' }, output: 'probability' }));
    await assert.rejects(openNetworkModel(bare), /input 'input' is 3 x 32; Segment-then-Segment feeds square S x S inputs/);
    const garbage = join(dir, 'garbage.onnx');
    writeFileSync(garbage, 'not a model at all');
    writeFileSync(`${garbage}.json`, JSON.stringify({ input: { scale: '0-255' }, output: 'probability' }));
    await assert.rejects(openNetworkModel(garbage), new RegExp(`${garbage}: not an ONNX model \\(.*\\); give a \\.onnx file as torch\\.onnx\\.export or sts export writes it`));
    await assert.rejects(openNetworkModel(join(dir, 'missing.onnx')), /missing\.onnx: cannot read the ONNX model \(ENOENT\)/);
  });

  it('names a model too new for the installed ONNX Runtime, with what it reads and what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-onnx-new-'));
    const sidecar = JSON.stringify({ input: { scale: '0-255' }, output: 'probability' });
    const graph = (name: string, extra: Partial<Parameters<typeof writeGraph>[2]>) => {
      const path = writeGraph(dir, name, { op: 'Identity', input: ['n', 1, 8, 8], output: ['n', 1, 8, 8], ...extra });
      writeFileSync(`${path}.json`, sidecar);
      return path;
    };
    const reads = 'IR versions up to 13 and opsets up to ai\\.onnx 26, ai\\.onnx\\.ml 5';
    const advice = 'export it again with an older opset \\(torch\\.onnx\\.export\\(\\.\\.\\., opset_version=17\\)\\) or an older onnx package, or convert it .*or run it with a newer ONNX Runtime';
    const cases: [string, Partial<Parameters<typeof writeGraph>[2]>, string][] = [
      ['ir14', { irVersion: 14 }, 'ONNX IR version 14 is'],
      ['ir99', { irVersion: 99 }, 'ONNX IR version 99 is'],
      ['opset99', { opsets: [{ domain: '', version: 99 }] }, 'opset 99 of ai\\.onnx is'],
      ['both', { irVersion: 99, opsets: [{ domain: '', version: 99 }, { domain: 'ai.onnx.ml', version: 99 }] }, 'ONNX IR version 99 and opset 99 of ai\\.onnx and opset 99 of ai\\.onnx\\.ml are'],
    ];
    for (const [name, extra, what] of cases) {
      const path = graph(name, extra);
      await assert.rejects(openNetworkModel(path), (e: Error) => new RegExp(`^${path}: ${what} newer than the installed ONNX Runtime 1\\.30 reads \\(${reads}\\); ${advice}`).test(e.message) && !/onnxruntime_src|opset 7 or later/.test(e.message), name);
    }
    // The newest the table allows loads.
    const newest = graph('newest', { irVersion: 13, opsets: [{ domain: '', version: 26 }] });
    assert.equal((await openNetworkModel(newest)).size, 8);
  });

  it("keeps its table of what ONNX Runtime reads true to the installed onnxruntime-node", async () => {
    // If this fails after an upgrade of onnxruntime-node, update RUNTIME_SUPPORT in src/engine/onnx/onnx-metadata.ts.
    const dir = mkdtempSync(join(tmpdir(), 'sts-onnx-table-'));
    const support = onnxRuntimeSupport(ort.env.versions.node);
    assert.ok(support, `no row for onnxruntime-node ${ort.env.versions.node}`);
    const loads = async (name: string, irVersion: number, opsets: { domain: string; version: number }[]) => {
      const path = writeGraph(dir, name, { op: 'Identity', input: ['n', 1, 8, 8], output: ['n', 1, 8, 8], irVersion, opsets });
      return ort.InferenceSession.create(path, { logSeverityLevel: 4 }).then((s) => (void s.release(), true), () => false);
    };
    const top = support.maxOpsets['ai.onnx'];
    assert.equal(await loads('top', support.maxIrVersion, [{ domain: '', version: top }, { domain: 'ai.onnx.ml', version: support.maxOpsets['ai.onnx.ml'] }]), true);
    assert.equal(await loads('ir-above', support.maxIrVersion + 1, [{ domain: '', version: 13 }]), false);
    assert.equal(await loads('opset-above', support.maxIrVersion, [{ domain: '', version: top + 1 }]), false);
    assert.equal(await loads('ml-above', support.maxIrVersion, [{ domain: '', version: 13 }, { domain: 'ai.onnx.ml', version: support.maxOpsets['ai.onnx.ml'] + 1 }]), false);
  });

  it('finds external data beside the model from any working directory, and refuses data outside its folder by name', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sts-onnx-external-'));
    const dir = join(root, 'model');
    mkdirSync(dir);
    const sidecar = JSON.stringify({ input: { scale: '0-255' }, output: 'logit' });
    const withData = (name: string, location: string, o: { offset?: number; length?: number } = {}) => {
      const path = writeGraph(dir, name, { op: 'Add', input: ['n', 1, 8, 8], output: ['n', 1, 8, 8], external: [{ name: 'bias', location, ...o }] });
      writeFileSync(`${path}.json`, sidecar);
      return path;
    };
    writeFileSync(join(dir, 'bias.data'), Buffer.from(new Float32Array([3]).buffer));
    writeFileSync(join(root, 'outside.data'), Buffer.from(new Float32Array([7]).buffer));
    // The test runs from the repository root, not the model's folder: the data is still found beside the model.
    assert.notEqual(process.cwd(), dir);
    const good = withData('good', 'bias.data');
    const model = await openNetworkModel(good);
    const [map] = await model.network()([raster(new Float32Array(64), 8, 1)]);
    assert.ok(Math.abs(map[0] - 1 / (1 + Math.exp(-3))) < 1e-6, `sigmoid(0 + 3), got ${map[0]}`);

    const outside = "names its external data file \\(of tensor 'bias'\\) '(.*)', outside its folder";
    const cases: [string, string, RegExp][] = [
      ['climbs', '../outside.data', new RegExp(outside)],
      ['absolute', join(root, 'outside.data'), new RegExp(outside)],
      ['passwd', '../../../../../../../etc/passwd', new RegExp(outside)],
    ];
    for (const [name, location, message] of cases) {
      const path = withData(name, location);
      await assert.rejects(openNetworkModel(path), (e: Error) => e.message.startsWith(`${path}: `) && message.test(e.message) && /keep the external data files in the model's folder/.test(e.message), name);
    }
    symlinkSync(join(root, 'outside.data'), join(dir, 'link.data'));
    const link = withData('link', 'link.data');
    await assert.rejects(openNetworkModel(link), /link\.onnx: its external data file \(of tensor 'bias'\) 'link\.data' is a link to a file outside its folder/);
    symlinkSync('/dev/zero', join(dir, 'zero.data'));
    await assert.rejects(openNetworkModel(withData('zero', 'zero.data')), /zero\.onnx: its external data file \(of tensor 'bias'\) 'zero\.data' is a link to a file outside its folder/);
    const short = withData('short', 'bias.data', { offset: 2, length: 4 });
    await assert.rejects(openNetworkModel(short), /bias\.data: holds 4 bytes but .*short\.onnx reads tensor 'bias' from bytes 2 to 6 of it; copy the model and its data files again/);
    await assert.rejects(openNetworkModel(withData('missing', 'nope.data')), /nope\.data: missing external data file \(of tensor 'bias'\) \(ENOENT\), named by .*missing\.onnx/);
  });

  it('reads the model and its sidecar with a bound: a device or FIFO is named at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-onnx-device-'));
    symlinkSync('/dev/zero', join(dir, 'zero.onnx'));
    await assert.rejects(openNetworkModel(join(dir, 'zero.onnx')), /zero\.onnx: the ONNX model is a device, not a regular file; give the path of an \.onnx file/);
    const path = writeGraph(dir, 'fifo', { op: 'Identity', input: ['n', 1, 8, 8], output: ['n', 1, 8, 8] });
    execFileSync('mkfifo', [`${path}.json`]);
    await assert.rejects(openNetworkModel(path), /fifo\.onnx\.json: the sidecar is a FIFO, not a regular file/);
  });

  it('names a misspelled sidecar key, listing the known ones, and an input side too large to allocate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-onnx-keys-'));
    const path = writeGraph(dir, 'm', { op: 'Identity', input: ['n', 1, 'h', 'w'], output: ['n', 1, 'h', 'w'] });
    const keys = '"layout", "size", "channels", "input", "output", "inputName", "outputName", "metadata"';
    const write = (value: unknown) => writeFileSync(`${path}.json`, JSON.stringify(value));
    write({ input: { scale: '0-255' }, output: 'logit', size: 8, layuot: 'NHWC' });
    await assert.rejects(openNetworkModel(path), new RegExp(`m\\.onnx\\.json: unknown key "layuot" \\(misspelled\\?\\); the keys are ${keys}`));
    write({ input: { scale: '0-255' }, output: 'logit', size: 8, Size: 16, outputname: 'o' });
    await assert.rejects(openNetworkModel(path), /unknown keys "Size", "outputname" \(misspelled\?\)/);
    write({ input: { scale: '0-1', std: [0.2] }, output: 'logit', size: 8 });
    await assert.rejects(openNetworkModel(path), /m\.onnx\.json: "input" has the keys "scale", "std"; it takes either "scale" or "mean" with "std"/);
    write({ input: { scale: '0-255' }, output: 'logit', size: 100_000 });
    await assert.rejects(openNetworkModel(path), /m\.onnx\.json: "size" 100000: S = 100000 is beyond the 4,096 this tool feeds \(one 100000 x 100000 RGB input alone would take 120 GB\)/);
    const fixed = writeGraph(dir, 'fixed', { op: 'Identity', input: ['n', 1, 65_536, 65_536], output: ['n', 1, 65_536, 65_536] });
    writeFileSync(`${fixed}.json`, JSON.stringify({ input: { scale: '0-255' }, output: 'logit' }));
    await assert.rejects(openNetworkModel(fixed), /fixed\.onnx: input 'input' is 65536 x 65536: S = 65536 is beyond the 4,096 this tool feeds .*; give a network with a smaller input/);
  });
});
