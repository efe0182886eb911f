/**
 * Geometry benchmark (not a test): connected components and the whole geometry of Algorithm 1 on a
 * 10,000 x 10,000 mask holding 50,000 objects. Networks are identities, so only our code is timed.
 *
 *   npm run bench:geometry [-- --side 10000 --objects 50000]
 *
 * Prints a table and writes bench/results/geometry.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { paddingForSize } from '../src/geometry/boxes.js';
import { connectedComponents } from '../src/geometry/components.js';
import { cropResize } from '../src/geometry/crop.js';
import { fuseInto } from '../src/geometry/fusion.js';
import { boxesOfMask, proposeBoxes } from '../src/geometry/proposals.js';
import type { Mask } from '../src/geometry/raster.js';
import { resizeNearest } from '../src/geometry/resize.js';
import { segmentThenSegment } from '../src/pipeline/segment-then-segment.js';
import { seededRng } from '../src/random.js';

const { values } = parseArgs({ options: { side: { type: 'string', default: '10000' }, objects: { type: 'string', default: '50000' } } });
const side = Number(values.side);
const objects = Number(values.objects);

/** Blobs (discs and ellipses of radius 3..18), one per cell of a grid, so that exactly `objects` stay separate. */
function makeMask(): Mask<Uint8Array> {
  const rng = seededRng(2018);
  const data = new Uint8Array(side * side);
  const perRow = Math.ceil(Math.sqrt(objects));
  const cell = Math.floor(side / perRow);
  for (let k = 0; k < objects; k++) {
    const cx0 = (k % perRow) * cell;
    const cy0 = Math.floor(k / perRow) * cell;
    const rx = rng.int(3, Math.min(18, Math.floor(cell / 2) - 2));
    const ry = rng.int(3, Math.min(18, Math.floor(cell / 2) - 2));
    const cx = cx0 + rng.int(rx + 1, cell - rx - 2);
    const cy = cy0 + rng.int(ry + 1, cell - ry - 2);
    for (let y = cy - ry; y <= cy + ry; y++) {
      for (let x = cx - rx; x <= cx + rx; x++) {
        if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) data[y * side + x] = 1;
      }
    }
  }
  return { width: side, height: side, channels: 1, data };
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}

const rows: { stage: string; ms: number; detail: string }[] = [];
const record = (stage: string, ms: number, detail: string) => {
  rows.push({ stage, ms: Math.round(ms), detail });
  console.log(`${stage.padEnd(58)} ${String(Math.round(ms)).padStart(7)} ms  ${detail}`);
};

console.log(`Geometry benchmark: ${side} x ${side} mask, ${objects} objects, node ${process.version}\n`);
const [mask, tMake] = time(makeMask);
record('make the mask (not our code under test)', tMake, '');

// warm-up on a small mask so that JIT compilation is not timed
connectedComponents({ width: 500, height: 500, channels: 1, data: mask.data.subarray(0, 250000) });

const [components, tCc] = time(() => connectedComponents(mask));
record('connected components, full resolution', tCc, `${components.count} components, ${components.runs.row.length} runs, ${((side * side) / tCc / 1000).toFixed(0)} Mpx/s`);
if (components.count !== objects) throw new Error(`expected ${objects} components, found ${components.count}`);

const S = 64;
const padding = paddingForSize(S);
const [gtBoxes, tBoxes] = time(() => boxesOfMask(mask, { padding }));
record('ground-truth crop boxes (components + expand), S = 64', tBoxes, `${gtBoxes.length} boxes`);

const [jittered, tJit] = time(() => boxesOfMask(mask, { padding, jitter: { rng: seededRng(1) } }));
record('training boxes with +-16 px jitter', tJit, `${jittered.length} boxes`);

// Rough proposals from a map at a quarter of the resolution (the scale-aware, tiled rough pass of large images).
const roughSide = Math.floor(side / 4);
const rough = resizeNearest(mask, roughSide, roughSide) as Mask;
const [fast, tFast] = time(() => proposeBoxes(rough, mask, { padding }));
record(`proposals from a ${roughSide}^2 rough map: label small, scale`, tFast, `${fast.length} boxes`);
const [literal, tLiteral] = time(() => boxesOfMask(resizeNearest(rough, side, side) as Mask, { padding }));
record('  the same, the reference way (upsample, label full-res)', tLiteral, `${literal.length} boxes, ${(tLiteral / tFast).toFixed(0)}x slower`);
if (JSON.stringify(fast) !== JSON.stringify(literal)) throw new Error('shortcut and reference proposals differ');

const [crops, tCrop] = time(() => fast.map((b) => cropResize(mask, b, S, S)));
record(`crop + resize every box to ${S} x ${S} (fine inputs)`, tCrop, `${crops.length} crops, ${((tCrop * 1000) / crops.length).toFixed(1)} us each`);
const canvas: Mask<Uint8Array> = { width: side, height: side, channels: 1, data: new Uint8Array(side * side) };
const [, tFuse] = time(() => crops.forEach((c, i) => fuseInto(canvas, c.data, S, fast[i])));
record('resize back + OR-fuse every fine mask', tFuse, `${((tFuse * 1000) / crops.length).toFixed(1)} us each`);
const geometryTotal = tFast + tCrop + tFuse;
record('Algorithm 1 geometry with 50k objects (proposals+crops+fuse)', geometryTotal, '');

const t0 = performance.now();
const sts = await segmentThenSegment(mask, { size: S, rough: async (xs) => xs.map((x) => x.data), fine: async (xs) => xs.map((x) => x.data) });
record(`segmentThenSegment, S = ${S}, identity networks (paper setting)`, performance.now() - t0, `${sts.boxes.length} boxes`);

const rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
console.log(`\npeak-ish RSS now: ${rssMb} MB (the mask alone is ${Math.round((side * side) / 2 ** 20)} MB)`);
mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('../../bench/results/geometry.json', import.meta.url),
  JSON.stringify({ side, objects, node: process.version, cpus: (await import('node:os')).cpus().length, rss_mb: rssMb, stages: rows }, null, 2) + '\n',
);
