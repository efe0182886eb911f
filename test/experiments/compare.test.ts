import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { comparisonTable, compareEvaluations, parsePerImageCsv } from '../../src/experiments/compare.js';

const header = 'size,method,image,dsc,iou,precision,recall,ms';
const names = { before: 'a.csv', after: 'b.csv' };

describe('comparing two evaluations', () => {
  it('pairs rows by image whatever their order, per size and method', () => {
    const before = parsePerImageCsv(`${header}\n32,sts,x,0.5,0.4,0.6,0.5,1\n32,sts,y,0.7,0.6,0.8,0.7,1\n32,baseline,x,0.3,0.2,0.4,0.3,1\n`, 'a.csv');
    const after = parsePerImageCsv(`${header}\n32,sts,y,0.8,0.6,0.8,0.7,2\n32,sts,x,0.6,0.4,0.6,0.5,2\n`, 'b.csv');
    const rows = compareEvaluations(before, after, names);
    // Only StS is in both; each image gained 0.1 DSC, so the interval is that exactly.
    assert.deepEqual([...new Set(rows.map((r) => r.method))], ['sts']);
    const dsc = rows.find((r) => r.metric === 'dsc')!;
    assert.ok(Math.abs(dsc.before - 0.6) < 1e-12 && Math.abs(dsc.after - 0.7) < 1e-12);
    assert.ok(Math.abs(dsc.difference.low - 0.1) < 1e-9 && Math.abs(dsc.difference.high - 0.1) < 1e-9);
    assert.equal(rows.find((r) => r.metric === 'iou')!.difference.mean, 0);
    assert.match(comparisonTable(rows), /\| 32 \| StS \| dsc \| 0\.600 \| 0\.700 \| \+0\.100 \[\+0\.100, \+0\.100\] \| 2 \|/);
  });

  it('refuses evaluations of different images, naming them and the file', () => {
    const before = parsePerImageCsv(`${header}\n32,sts,x,0.5,0.4,0.6,0.5,1\n32,sts,y,0.7,0.6,0.8,0.7,1\n`, 'a.csv');
    const after = parsePerImageCsv(`${header}\n32,sts,x,0.6,0.4,0.6,0.5,2\n32,sts,z,0.8,0.6,0.8,0.7,2\n`, 'b.csv');
    assert.throws(() => compareEvaluations(before, after, names), /not of the same images\n {2}1 only in a\.csv: y\n {2}1 only in b\.csv: z/);
  });

  it('names the file and the row of a malformed per_image.csv', () => {
    assert.throws(() => parsePerImageCsv('image,dsc\nx,0.5\n', 'c.csv'), /c\.csv: lacks the columns size, method, iou, precision, recall/);
    assert.throws(() => parsePerImageCsv(`${header}\n32,sts,x,oops,0.4,0.6,0.5,1\n`, 'c.csv'), /c\.csv, row 2: dsc "oops" is not a number/);
    assert.throws(() => parsePerImageCsv(`${header}\n`, 'c.csv'), /c\.csv: has no rows/);
    assert.throws(() => parsePerImageCsv(`${header}\n32,sts,x,1,1,1,1,1\n32,sts,x,1,1,1,1,1\n`, 'c.csv'), /c\.csv, row 3: image x appears twice/);
    // A spreadsheet's byte-order mark does not hide the first column.
    assert.equal(parsePerImageCsv(`\ufeff${header}\n32,sts,x,1,1,1,1,1\n`, 'c.csv')[0].size, 32);
    assert.throws(() => compareEvaluations(parsePerImageCsv(`${header}\n32,sts,x,1,1,1,1,1\n`, 'a'), parsePerImageCsv(`${header}\n64,sts,x,1,1,1,1,1\n`, 'b'), { before: 'a', after: 'b' }), /share no input size and method/);
  });
});
