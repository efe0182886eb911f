/** Centre flows: the target points every object pixel at its centre, and following it parts touching objects. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flowToUnit, flowsOfLabels, unitToFlow } from '../../src/instances/flow-target.js';
import { labelsByFlows } from '../../src/instances/follow-flows.js';

function discs(width: number, height: number, centres: [number, number, number][]): Int32Array {
  const labels = new Int32Array(width * height);
  centres.forEach(([cx, cy, r], k) => {
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) labels[y * width + x] = k + 1;
  });
  return labels;
}

describe('centre flows', () => {
  it('point every object pixel at its centre, unit length, and are 0 outside', () => {
    const width = 30;
    const height = 20;
    const labels = discs(width, height, [[10, 10, 6]]);
    const flows = flowsOfLabels({ width, height, data: labels });
    const at = (x: number, y: number) => [flows[2 * (y * width + x)], flows[2 * (y * width + x) + 1]];
    assert.deepEqual(at(4, 10), [0, 1]); // left of the centre: points right
    assert.deepEqual(at(10, 15), [-1, 0]); // below: points up
    assert.deepEqual(at(10, 10), [0, 0]); // the centre itself
    assert.deepEqual(at(25, 5), [0, 0]); // background
    const [dy, dx] = at(6, 6);
    assert.ok(Math.abs(Math.hypot(dy, dx) - 1) < 1e-6 && dy > 0 && dx > 0);
    assert.equal(unitToFlow(flowToUnit(-0.25)), -0.25);
  });

  it('a label repeated in two places (a mirrored border) gives each piece its own centre', () => {
    const width = 20;
    const height = 5;
    const labels = new Int32Array(width * height);
    for (let y = 0; y < height; y++) for (const x of [1, 2, 3, 16, 17, 18]) labels[y * width + x] = 7;
    const flows = flowsOfLabels({ width, height, data: labels });
    assert.equal(flows[2 * (2 * width + 1) + 1], 1); // left piece, left column: points right, to its own centre
    assert.equal(flows[2 * (2 * width + 18) + 1], -1); // right piece, right column: points left
  });

  it('followed, they part two touching discs into two objects that cover the union', () => {
    const width = 44;
    const height = 24;
    const labels = discs(width, height, [[14, 12, 8], [28, 12, 8]]);
    const foreground = Uint8Array.from(labels, (l) => (l ? 1 : 0));
    const map = labelsByFlows(foreground, flowsOfLabels({ width, height, data: labels }), width, height);
    assert.equal(map.count, 2);
    let agree = 0;
    let total = 0;
    const pairs = new Map<string, number>();
    for (let i = 0; i < labels.length; i++) {
      if (!labels[i]) continue;
      total++;
      assert.ok(map.data[i] > 0, 'every foreground pixel has an object');
      const key = `${labels[i]}-${map.data[i]}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    for (const v of pairs.values()) agree = Math.max(agree, v);
    // Two objects, each almost exactly one disc (the two best label pairings hold nearly every pixel).
    const best = [...pairs.values()].sort((a, b) => b - a);
    assert.ok(best[0] + best[1] >= 0.97 * total, `${best[0] + best[1]} of ${total}`);
  });

  it('a lone disc stays one object, and small specks are dropped', () => {
    const width = 30;
    const height = 30;
    const labels = discs(width, height, [[15, 15, 9]]);
    const foreground = Uint8Array.from(labels, (l) => (l ? 1 : 0));
    foreground[0] = 1; // a one-pixel speck with no flow
    const map = labelsByFlows(foreground, flowsOfLabels({ width, height, data: labels }), width, height);
    assert.equal(map.count, 1);
    assert.equal(map.data[0], 0);
  });

  it('followed bilinearly, they part the touching discs alike; objects the flows do not hold together can be dropped', () => {
    const width = 44;
    const height = 24;
    const labels = discs(width, height, [[14, 12, 8], [28, 12, 8]]);
    const foreground = Uint8Array.from(labels, (l) => (l ? 1 : 0));
    const flows = flowsOfLabels({ width, height, data: labels });
    assert.equal(labelsByFlows(foreground, flows, width, height, { bilinear: true }).count, 2);
    // Their own flows: nothing dropped at a strict threshold.
    assert.equal(labelsByFlows(foreground, flows, width, height, { maxFlowError: 0.05 }).count, 2);
    // Flows pointing outwards end on the rims: the objects found there are not what those flows say, and go.
    const outwards = flows.map((v) => -v);
    assert.ok(labelsByFlows(foreground, outwards, width, height, { maxFlowError: Infinity }).count > 0);
    assert.equal(labelsByFlows(foreground, outwards, width, height, { maxFlowError: 0.4 }).count, 0);
  });
});
