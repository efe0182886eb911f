/**
 * Writing a mask that may be far larger than memory: rendered band by band (a tile row at a time) into a tiled,
 * deflate-compressed, pyramidal one-image OME-TIFF by the project's streaming TIFF writer (label-tiff.ts, 8 bits),
 * which QuPath and Fiji (Bio-Formats), napari (tifffile), libvips and geotiff.js open. Small masks are a plain PNG.
 * Until 2026-12-06 libvips joined banded strips into the TIFF, and that alone took about 1 GB for a 40,000 x 40,000
 * mask (docs/results/nuclei-instances/slides.md); `writeBandedTiff` still does so for RGB pictures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeAtomically } from './atomic-write.js';
import { writeLabelTiffFile } from './label-tiff.js';

export interface MaskWriterOptions {
  /** Masks with at most this many pixels are written as PNG from one band. */
  readonly pngPixels?: number;
  /** Masks with more pixels than this get a pyramid of reduced copies. */
  readonly pyramidPixels?: number;
}

/** The file name the mask gets for an image of this size: `mask.png` or `mask.tif`. */
export function maskFileName(width: number, height: number, { pngPixels = 4096 * 4096 }: MaskWriterOptions = {}): string {
  return width * height <= pngPixels ? 'mask.png' : 'mask.tif';
}

/**
 * Writes the mask of `width` x `height` to `path` (PNG or TIFF, from its extension), asking `render(top, rows)`
 * for 0/1 bands of rows in order; foreground is stored as 255.
 */
export async function writeMask(
  path: string,
  width: number,
  height: number,
  render: (top: number, rows: number) => Uint8Array | Promise<Uint8Array>,
  options: MaskWriterOptions = {},
): Promise<void> {
  if (path.endsWith('.png')) {
    const band = await render(0, height);
    await writeAtomically(path, (tmp) =>
      sharp(to255(band), { raw: { width, height, channels: 1 } }).png({ compressionLevel: 6 }).toFile(tmp).then(() => {}),
    );
    return;
  }
  // Reduced levels by nearest (the top-left pixel of each 2 x 2), as labels.tif's: a mask stays 0 / 255.
  const pyramid = width * height > (options.pyramidPixels ?? 8192 * 8192);
  await writeAtomically(path, (tmp) => writeLabelTiffFile(tmp, width, height, async (top, rows) => to255(await render(top, rows)), { bits: 8, name: 'mask', pyramid }));
}

/**
 * A tiled, compressed TIFF of 8-bit pixels (1 or 3 channels) from bands of rows rendered in order, never holding
 * more than one band: bands go to compressed strip files that libvips joins, streaming, into the tiled file.
 */
export async function writeBandedTiff(
  path: string,
  width: number,
  height: number,
  channels: 1 | 3,
  render: (top: number, rows: number) => Uint8Array | Promise<Uint8Array>,
  o: { bandHeight: number; pyramid: boolean; tempDir?: string },
): Promise<void> {
  const { bandHeight } = o;
  const dir = await mkdtemp(join(o.tempDir ?? tmpdir(), 'sts-bands-'));
  try {
    const strips: string[] = [];
    for (let top = 0; top < height; top += bandHeight) {
      const rows = Math.min(bandHeight, height - top);
      const strip = join(dir, `${String(strips.length).padStart(6, '0')}.tif`);
      // arrayjoin gives every cell the largest cell's size: the last band is padded to full height and cut off below.
      let band = await render(top, rows);
      if (rows < bandHeight) {
        const full = new Uint8Array(width * bandHeight * channels);
        full.set(band);
        band = full;
      }
      await sharp(band, { raw: { width, height: bandHeight, channels } }).tiff({ compression: 'deflate' }).toFile(strip);
      strips.push(strip);
    }
    await writeAtomically(path, async (tmp) => {
      // arrayjoin needs two images or more; one strip is already the whole image.
      const input = strips.length > 1 ? sharp(strips, { join: { across: 1 } }) : sharp(strips[0]);
      await input
        .extract({ left: 0, top: 0, width, height })
        .tiff({ tile: true, tileWidth: 256, tileHeight: 256, compression: 'deflate', pyramid: o.pyramid, bigtiff: width * height * channels > 2 ** 31 })
        .toFile(tmp);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function to255(band: Uint8Array): Uint8Array {
  for (let i = 0; i < band.length; i++) band[i] = band[i] ? 255 : 0;
  return band;
}
