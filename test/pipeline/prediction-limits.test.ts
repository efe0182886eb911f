/**
 * Values that size a prediction's allocations are named where they enter, before any image: --batch, --overlap and
 * --scale against the loaded pair, the training scale a model records, and (per image, before any pixel is read)
 * a rough pass too large to hold. Each used to fail once per image with "Invalid typed array length" (or tile
 * forever); the tests assert the named error and that no image was touched.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openNetworkModel } from '../../src/catalog/network-model.js';
import { createPredictor } from '../../src/pipeline/predictor.js';
import { predictionLimitsProblem } from '../../src/pipeline/prediction-limits.js';
import { MAX_ROUGH_PIXELS, streamingSegmentThenSegment } from '../../src/pipeline/streaming-sts.js';
import type { ImageSource } from '../../src/types/image-source.js';
import type { Progress } from '../../src/types/progress.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';
import '../support/engine.js';

const pair = { rough: join(FIXTURE_MODELS, 'cells-rough'), fine: join(FIXTURE_MODELS, 'cells-fine') };
const options = { batch: 8, tiling: true, dropPolicy: 'clip', resize: 'nearest' } as const;

/** A copy of the fixture rough model with `sts.scale` set to `factor` (and its input side set to `size`). */
function roughWith(dir: string, { factor, size }: { factor?: number; size?: number }): string {
  const out = join(dir, `rough-${factor ?? ''}-${size ?? ''}`);
  cpSync(pair.rough, out, { recursive: true });
  const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as {
    modelTopology: { config: { layers: { config: { batch_input_shape?: (number | null)[] } }[] } };
    userDefinedMetadata: { sts: Record<string, unknown> };
  };
  if (factor !== undefined) json.userDefinedMetadata.sts.scale = { imageWidth: 1, imageHeight: 1, factorX: factor, factorY: factor };
  if (size !== undefined) json.modelTopology.config.layers[0].config.batch_input_shape = [null, size, size, 3];
  writeFileSync(join(out, 'model.json'), JSON.stringify(json));
  return out;
}

/** An image source that claims `width` x `height` and fails the test if any pixel is read. */
function untouchable(width: number, height: number): ImageSource {
  return {
    path: 'claimed.tif',
    width,
    height,
    channels: 3,
    levels: [{ width, height }],
    read: () => Promise.reject(new Error('no pixel should have been read')),
    close: () => Promise.resolve(),
  };
}

describe('prediction limits', () => {
  it('name --overlap at or above S, --scale below 1/4 and --batch too large once the pair is loaded, before any image', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ overlap: 64 }, /^ArgumentError: --overlap: 64 must be a whole number below S = 64, the models' input side \(rough tiles step by S - overlap\); give 0 to 63, or leave it out for S \/ 4 = 16$/],
      [{ overlap: -1 }, /^ArgumentError: --overlap: -1 must be a whole number below S = 64/],
      [{ scale: 0.0005 }, /^ArgumentError: --scale: 0\.0005 original pixels per rough input pixel would enlarge every image 2,000x before the rough pass \(a 1,000 x 1,000 image would become 2,000,000 x 2,000,000\); the scale must be at least 0\.25 \(at most 4x\); give a larger --scale/],
      [{ scale: 0.02 }, /^ArgumentError: --scale: 0\.02 original pixels per rough input pixel would enlarge every image 50x before the rough pass/],
      [{ batch: 100_000 }, /^ArgumentError: --batch: must be a whole number from 1 to 1024, got 100000$/],
    ];
    for (const [extra, message] of cases) {
      await assert.rejects(createPredictor(pair, { ...options, ...extra }), message, JSON.stringify(extra));
    }
    // At the largest S, the default batch of 8 fits and a batch of 20 does not.
    const big = { size: 4096, channels: 3, rough: { path: 'r', metadata: {} } };
    assert.equal(predictionLimitsProblem({ batch: 8 }, big), undefined);
    assert.match(predictionLimitsProblem({ batch: 20 }, big)!.message, /^--batch: 20 inputs of 4096 x 4096 x 3 make 4\.0 GB per network call at S = 4096; give at most 10$/);
    // What fits still loads.
    const ok = await createPredictor(pair, { ...options, overlap: 63, scale: 0.25, batch: 1024 });
    ok.dispose();
  });

  it("names a rough model whose recorded training scale would enlarge images, unless --scale or --no-tiling overrides it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-limits-scale-'));
    const rough = roughWith(dir, { factor: 1e-9 });
    await assert.rejects(
      createPredictor({ rough, fine: pair.fine }, options),
      (e: Error) =>
        e.message.startsWith(`${rough}: the training scale its metadata records (sts.scale: 1e-9 x 1e-9) is not one to predict at: 1e-9 original pixels per rough input pixel would enlarge every image 1,000,000,000x`) &&
        /give --scale <factor> \(original pixels per rough input pixel, at least 0\.25\) or --no-tiling/.test(e.message),
    );
    (await createPredictor({ rough, fine: pair.fine }, { ...options, scale: 2 })).dispose();
    (await createPredictor({ rough, fine: pair.fine }, { ...options, tiling: false })).dispose();
  });

  it('names a TensorFlow.js model whose input side is too large to allocate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-limits-size-'));
    const rough = roughWith(dir, { size: 65_536 });
    await assert.rejects(openNetworkModel(rough), new RegExp(`^StsError: ${rough}: the model takes 65536 x 65536 inputs: S = 65536 is beyond the 4,096 this tool feeds \\(one 65536 x 65536 RGB input alone would take 52 GB\\); give a model trained with a smaller --size$`));
  });

  it('per image: a rough pass too large to hold is named before any pixel is read, and a large one is announced first', async () => {
    const network = () => Promise.reject(new Error('the network should not run'));
    const huge = untouchable(100_000, 100_000);
    await assert.rejects(
      streamingSegmentThenSegment(huge, { size: 64, rough: network, fine: network, scale: { factorX: 1, factorY: 1 } }),
      /^StsError: the image is 100,000 x 100,000: at 1\.00 original pixels per rough input pixel its rough pass would be 100,000 x 100,000 \(10\.0 gigapixels, beyond the 2\.1 it can hold\); give --scale 2\.16 or larger$/,
    );
    assert.ok(100_000 * 100_000 / 2.16 ** 2 <= MAX_ROUGH_PIXELS);
    // At a workable scale the first progress event says the size and the work, before any pixel is read.
    const events: Progress[] = [];
    await assert.rejects(
      streamingSegmentThenSegment(huge, { size: 64, rough: network, fine: network, scale: { factorX: 5, factorY: 5 }, onProgress: (p) => events.push(p) }),
      /no pixel should have been read/,
    );
    assert.deepEqual(events[0], { stage: 'rough', done: 0, total: 417 * 417, plan: { width: 100_000, height: 100_000, mode: 'tiled', roughWidth: 20_000, roughHeight: 20_000, tiles: 417 * 417 } });
    // An --overlap at S is named before its tiling loop (stride 0) could start.
    await assert.rejects(streamingSegmentThenSegment(huge, { size: 64, rough: network, fine: network, scale: { factorX: 5, factorY: 5 }, overlap: 64 }), /overlap: must be an integer in \[0, 63\], got 64/);
  });
});
