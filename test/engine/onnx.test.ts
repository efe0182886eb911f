/**
 * ONNX models in: the reference's U-Net exported from PyTorch (scripts/make_onnx_unet_fixture.py) runs in our
 * pipeline as it runs in PyTorch; the sidecar's layouts, scalings and output kinds on small graphs built here; and
 * the named errors for a model that does not fit or says nothing of how it is fed.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { openNetworkModel } from '../../src/catalog/network-model.js';
import { parseSidecar, resolveConvention } from '../../src/engine/onnx/onnx-convention.js';
import type { Raster } from '../../src/geometry/raster.js';
import { packageRoot } from '../../src/paths.js';
import { segmentThenSegment } from '../../src/pipeline/segment-then-segment.js';
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
function writeGraph(dir: string, name: string, o: { op: string; input: (number | string)[]; output: (number | string)[]; attributes?: InstanceType<typeof onnx.AttributeProto>[]; extraInputs?: [string, number[]][] }): string {
  const dims = (shape: (number | string)[]) => shape.map((d) => onnx.TensorShapeProto.Dimension.create(typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  const info = (n: string, shape: (number | string)[]) =>
    onnx.ValueInfoProto.create({ name: n, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims(shape) } } } });
  const initializer = (o.extraInputs ?? []).map(([n, values]) => onnx.TensorProto.create({ name: n, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: values }));
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name,
      node: [{ opType: o.op, input: ['input', ...(o.extraInputs ?? []).map(([n]) => n)], output: ['output'], attribute: o.attributes ?? [] }],
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

  it('names a model that does not fit, with what was expected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-onnx-bad-'));
    const sidecar = { input: { scale: '0-255' }, output: 'probability' };
    const cases: [string, Parameters<typeof writeGraph>[2], RegExp][] = [
      ['three-maps', { op: 'Identity', input: ['n', 3, 16, 16], output: ['n', 3, 16, 16] }, /output 'output' has shape \[n, 3, 16, 16\]; expected one 16 x 16 foreground map per input \(N x 1 x 16 x 16\)/],
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
    await assert.rejects(openNetworkModel(garbage), new RegExp(`${garbage}: ONNX Runtime cannot load it`));
    await assert.rejects(openNetworkModel(join(dir, 'missing.onnx')), /missing\.onnx: cannot read the ONNX model \(ENOENT\)/);
  });
});
