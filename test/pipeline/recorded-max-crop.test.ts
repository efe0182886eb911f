/**
 * A fine network trained with `sts train --max-crop` records it, and inference cuts large boxes into S x S windows as
 * it learned unless told otherwise (pipeline/predictor.ts; the page and sts evaluate read the same record).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPredictor } from '../../src/pipeline/predictor.js';
import { maxCropOfMetadata, pairPassOfModels } from '../../src/types/training-scale.js';
import '../support/engine.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';

describe('recorded --max-crop', () => {
  it('reads a positive whole number from sts.maxCrop and nothing else', () => {
    assert.equal(maxCropOfMetadata({ sts: { maxCrop: 64 } }), 64);
    for (const bad of [0, -64, 6.5, '64', null]) assert.equal(maxCropOfMetadata({ sts: { maxCrop: bad } }), undefined, String(bad));
    assert.equal(maxCropOfMetadata({}), undefined);
  });

  it('a pair runs with its fine network\'s recorded --max-crop beside its rough pass, everywhere the same (pairPassOfModels)', () => {
    const rough = { sts: { scale: { imageWidth: 640, imageHeight: 512, factorX: 2, factorY: 2 }, roughInput: 'fixed-scale' } };
    assert.deepEqual(pairPassOfModels(rough, { sts: { maxCrop: 64 } }), { scale: { imageWidth: 640, imageHeight: 512, factorX: 2, factorY: 2 }, tileAbove: 0, maxCropSide: 64 });
    assert.deepEqual(pairPassOfModels(rough, { sts: { maxCrop: 64 } }, { maxCrop: 96, scale: 3 }), { scale: { factorX: 3, factorY: 3 }, tileAbove: 0, maxCropSide: 96 });
    assert.deepEqual(pairPassOfModels({}, { sts: {} }), {});
    assert.deepEqual(pairPassOfModels({}, undefined), {});
  });

  it("sts predict uses the fine network's recorded --max-crop, and a given --max-crop over it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-max-crop-'));
    const fine = join(dir, 'fine');
    cpSync(join(FIXTURE_MODELS, 'cells-fine'), fine, { recursive: true });
    const file = join(fine, 'model.json');
    const model = JSON.parse(readFileSync(file, 'utf8'));
    model.userDefinedMetadata = { ...model.userDefinedMetadata, sts: { ...model.userDefinedMetadata?.sts, maxCrop: 24 } };
    writeFileSync(file, JSON.stringify(model));
    const options = { batch: 8, tiling: true, dropPolicy: 'reference' as const, resize: 'nearest' as const };
    const maxCropOf = async (fineDir: string, maxCrop?: number) => {
      const predictor = await createPredictor({ rough: join(FIXTURE_MODELS, 'cells-rough'), fine: fineDir }, { ...options, ...(maxCrop ? { maxCrop } : {}) });
      try {
        return (predictor.settings.options as { maxCrop: number | null }).maxCrop;
      } finally {
        predictor.dispose();
      }
    };
    assert.equal(await maxCropOf(fine), 24);
    assert.equal(await maxCropOf(fine, 40), 40);
    assert.equal(await maxCropOf(join(FIXTURE_MODELS, 'cells-fine')), null);
  });
});
