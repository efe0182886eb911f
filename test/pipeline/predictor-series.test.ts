/**
 * `sts predict --series` and the reader's notes reach the image (pipeline/predictor.ts): the series asked for is
 * segmented, the choice is told per file, and a result of another series is redone, not taken as done.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPredictor } from '../../src/pipeline/predictor.js';
import '../support/engine.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';
import { writeTiff } from '../support/tiff-writer.js';

describe('predictor: OME-TIFF series', () => {
  it('segments the largest series by default, the one --series names otherwise, and says which', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-predictor-series-'));
    const gray = (w: number, h: number, value: number) => ({ width: w, height: h, samples: 1, bits: 8 as const, data: new Uint8Array(w * h).fill(value) });
    const xml = '<OME><Image ID="Image:0" Name="label"><Pixels SizeX="64" SizeY="64"><TiffData IFD="0"/></Pixels></Image><Image ID="Image:1" Name="slide"><Pixels SizeX="192" SizeY="128"><TiffData IFD="1"/></Pixels></Image></OME>';
    const file = join(dir, 'slide.ome.tif');
    writeFileSync(file, writeTiff(gray(64, 64, 200), { pages: [gray(192, 128, 30)], description: xml }));
    const out = join(dir, 'out');
    const options = { batch: 8, tiling: true, dropPolicy: 'reference' as const, resize: 'nearest' as const };
    const run = async (series?: number) => {
      const predictor = await createPredictor({ rough: join(FIXTURE_MODELS, 'cells-rough'), fine: join(FIXTURE_MODELS, 'cells-fine') }, { ...options, ...(series !== undefined ? { series } : {}) });
      try {
        const notes: string[] = [];
        const result = await predictor.predictFile(file, out, { note: (l) => notes.push(l) });
        return { result, notes };
      } finally {
        predictor.dispose();
      }
    };
    const largest = await run();
    assert.equal(largest.result.skipped, false);
    assert.deepEqual(largest.result.skipped ? [] : [largest.result.summary.width, largest.result.summary.height], [192, 128]);
    assert.deepEqual(largest.notes, [`${file}: 2 series; segmenting series 1 'slide' (192 x 128), the largest; --series N to choose`]);
    const label = await run(0);
    assert.equal(label.result.skipped, false, 'another series is another result: redone');
    assert.deepEqual(label.result.skipped ? [] : [label.result.summary.width, label.result.summary.height], [64, 64]);
    assert.match(label.notes[0], /segmenting series 0 'label' \(64 x 64\), as --series asks/);
  });
});
