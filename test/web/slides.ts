/**
 * Test slides, built by the tests (never committed): a large RGB image, black but for copies of a real DSB2018
 * image at fixed pseudo-random places, written band by band as a tiled (optionally pyramidal) TIFF, so that even a
 * 12,000 x 12,000 one costs little memory and time; and the fixture model pair with a training scale, so that the
 * rough pass tiles a slide as it would with slide-trained models.
 */
import { mkdir, readFile, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImage } from '../../src/io/image-files.js';
import { writeBandedTiff } from '../../src/io/mask-writer.js';
import { packageRoot } from '../../src/paths.js';
import { FIXTURE_MODELS } from '../support/fixtures.js';
import { seededRng } from '../../src/random.js';

export const FIXTURE_IMAGE = join(packageRoot, 'test/fixtures/web/dsb2018-00071198.png');
const MODELS = FIXTURE_MODELS;

export interface SlideOptions {
  readonly width: number;
  readonly height: number;
  /** Copies of the fixture image placed on the black background. */
  readonly copies: number;
  readonly pyramid: boolean;
  readonly seed?: number;
}

export async function buildSlide(path: string, o: SlideOptions): Promise<{ places: { left: number; top: number }[] }> {
  const tile = await readImage(FIXTURE_IMAGE);
  const rng = seededRng(o.seed ?? 5);
  // One copy per cell of a grid, at a random offset inside its cell: spread over the slide, never overlapping.
  const cols = Math.ceil(Math.sqrt((o.copies * o.width) / o.height));
  const rows = Math.ceil(o.copies / cols);
  const cw = Math.floor(o.width / cols);
  const ch = Math.floor(o.height / rows);
  const places = Array.from({ length: o.copies }, (_, k) => ({
    left: (k % cols) * cw + rng.int(0, Math.max(0, cw - tile.width - 1)),
    top: Math.floor(k / cols) * ch + rng.int(0, Math.max(0, ch - tile.height - 1)),
  }));
  await writeBandedTiff(path, o.width, o.height, 3, (top, count) => {
    const band = new Uint8Array(o.width * count * 3);
    for (const p of places) {
      for (let y = Math.max(top, p.top); y < Math.min(top + count, p.top + tile.height); y++) {
        const src = (y - p.top) * tile.width * 3;
        band.set(tile.data.subarray(src, src + tile.width * 3), ((y - top) * o.width + p.left) * 3);
      }
    }
    return band;
  }, { bandHeight: 1024, pyramid: o.pyramid });
  return { places };
}

/**
 * The fixture pair (U-Net, 8 base features, S = 64) in `dir`, its rough model recording a training scale of 4
 * (images of 256 x 256), as `sts train` records one: an image much larger than that gets a tiled rough pass.
 */
export async function scaledFixturePair(dir: string): Promise<{ rough: string; fine: string }> {
  const out = { rough: join(dir, 'cells-rough'), fine: join(dir, 'cells-fine') };
  for (const stage of ['rough', 'fine'] as const) {
    await mkdir(out[stage], { recursive: true });
    await copyFile(join(MODELS, `cells-${stage}`, 'weights.bin'), join(out[stage], 'weights.bin'));
    const json = JSON.parse(await readFile(join(MODELS, `cells-${stage}`, 'model.json'), 'utf8'));
    if (stage === 'rough') json.userDefinedMetadata.sts.scale = { imageWidth: 256, imageHeight: 256, factorX: 4, factorY: 4 };
    await writeFile(join(out[stage], 'model.json'), JSON.stringify(json));
  }
  return out;
}
