/**
 * `sts predict --series` and the reader's notes reach the image (pipeline/predictor.ts): the series asked for is
 * segmented, the choice is told per file, and a result of another series is redone, not taken as done. And what else
 * a result's identity holds that is not an option: an instance pair's decoding.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPredictor } from '../../src/pipeline/predictor.js';
import { saveModel } from '../../src/engine/model-files.js';
import { createModel } from '../../src/models/index.js';
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

describe("a result's identity records an instance pair's decoding", () => {
  it('instance pairs record the cores\' fusion, the smallest object and the neck cut, so results decoded otherwise are made again; semantic pairs do not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-instance-identity-'));
    const S = 16;
    await saveModel(join(dir, 'rough'), createModel({ name: 'unet', size: S, channels: 3, features: 4 }, { seed: 1 }), { sts: { stage: 'rough' } });
    await saveModel(join(dir, 'fine'), createModel({ name: 'unet', size: S, channels: 3, features: 4, outputs: 2 }, { seed: 2 }), { sts: { stage: 'fine', targets: 'instances' } });
    const options = { batch: 8, tiling: true, dropPolicy: 'reference' as const, resize: 'nearest' as const };
    const instancesOf = async (pair: { rough: string; fine: string }, extra = {}) => {
      const predictor = await createPredictor(pair, { ...options, ...extra });
      predictor.pair.rough.dispose();
      predictor.pair.fine.dispose();
      return (predictor.settings.options as { instances?: unknown }).instances;
    };
    const pair = { rough: join(dir, 'rough'), fine: join(dir, 'fine') };
    assert.deepEqual(await instancesOf(pair), { coreVote: 'centre', minSize: 15, necks: { depth: 6, minPiece: 8 }, foreground: 'centre' });
    assert.deepEqual(await instancesOf(pair, { minSize: 0 }), { coreVote: 'centre', minSize: 0, necks: { depth: 6, minPiece: 8 }, foreground: 'centre' });
    assert.equal(await instancesOf({ rough: join(FIXTURE_MODELS, 'cells-rough'), fine: join(FIXTURE_MODELS, 'cells-fine') }, { minSize: 30 }), undefined);
  });
});
