/**
 * One image in, one result folder out: `<out>/<name>/` with the mask (PNG, or tiled TIFF when large), the objects
 * as GeoJSON and CSV, a downscaled overlay and a summary. The folder is written under a temporary name and renamed
 * when complete, so an interrupted run leaves nothing that looks finished and a rerun can skip what exists.
 */
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { openImageSource } from '../io/file-image-source.js';
import { type TrainingScale, scaleForPixelSize } from '../types/training-scale.js';
import { maskFileName, writeMask } from '../io/mask-writer.js';
import { objectWriter } from '../io/object-files.js';
import { overlay } from '../io/overlay.js';
import { releaseCachedMemory } from '../engine/backend.js';
import { writeFolderAtomically } from '../io/atomic-write.js';
import { downscaleReader } from './downscale-reader.js';
import { type FineResults, type ObjectRegion, OVERLAY_SIDE, detectObjectRegions, overlaySize, pasteLabels, renderDownscaled, renderRegion } from './fine-results.js';
import { labelBands, nearestLabelsByBands } from './label-bands.js';
import { writeLabelBands, writeLabelMap } from '../io/label-maps.js';
import type { LabelMap } from '../geometry/label-map.js';
import { type StreamingOptions, type StreamingResult, streamingSegmentThenSegment } from './streaming-sts.js';

export interface PredictImageOptions extends Omit<StreamingOptions, 'scale'> {
  /** The rough network's training scale; with a pixel size on both sides, it is corrected for this image's. */
  readonly scale?: Pick<TrainingScale, 'factorX' | 'factorY' | 'pixelSizeUm'>;
  readonly channels: 1 | 3;
  /** Longest side of the overlay picture. */
  readonly overlaySide?: number;
  readonly tempDir?: string;
  /** Which series of an OME-TIFF (default: the one with the largest image). */
  readonly series?: number;
  /** An instance pair's smallest object in pixels (split-by-cores.ts; default 15). */
  readonly minSize?: number;
  /** Told, one line each, what was chosen or converted in reading the image (its series, a scaling of its samples). */
  readonly note?: (line: string) => void;
  /** What produced this result (the input file's identity, the models, the options), kept in summary.json. */
  readonly provenance?: Record<string, unknown>;
  /**
   * Images with at most this many pixels have their instance label map held whole (labels.png when it fits 16
   * bits); larger ones get it band by band as labels.tif. Default LABEL_MAP_MAX_PIXELS; lowered by tests.
   */
  readonly labelMapInMemoryUpTo?: number;
}

export interface PredictImageSummary {
  readonly image: string;
  readonly width: number;
  readonly height: number;
  readonly objects: number;
  /** `instances` (an instance pair: touching objects apart) or `components` (the mask's connected components). */
  readonly objectKind: 'instances' | 'components';
  readonly boxes: number;
  /** Boxes that kept the rough mask without a fine crop (`roughOnlyUpTo`); the other boxes were refined. */
  readonly roughOnly: number;
  readonly rough: StreamingResult['rough'];
  readonly foregroundPixels: number;
  readonly seconds: number;
  readonly files: readonly string[];
  readonly provenance?: Record<string, unknown>;
}

export const SUMMARY_FILE = 'summary.json';

/**
 * Largest image whose instance label map is held whole (4 bytes a pixel: 100 megapixels, 400 MB) and written as
 * labels.png when its labels fit in 16 bits; a larger one's is written band by band as a 32-bit labels.tif.
 */
export const LABEL_MAP_MAX_PIXELS = 100_000_000;

export async function predictImage(path: string, outDir: string, o: PredictImageOptions): Promise<PredictImageSummary> {
  const started = performance.now();
  const source = await openImageSource(path, { channels: o.channels, tempDir: o.tempDir, series: o.series, note: o.note });
  try {
    // The outputs never read the rough mask (only the bound of withinRough does, which keeps it).
    const result = await streamingSegmentThenSegment(source, { ...o, scale: scaleForPixelSize(o.scale, source.pixelSizeUm), keepRoughMask: false });
    // The networks are done with this image. A large one's outputs need the memory the engine keeps cached (small
    // images keep the cache: the next image reuses it).
    if (result.rough.mode === 'tiled') releaseCachedMemory();
    const { width, height } = result;
    let summary: PredictImageSummary | undefined;
    await writeFolderAtomically(outDir, async (tmp) => {
      const maskFile = maskFileName(width, height);
      let foreground = 0;
      // Writing a slide's outputs takes minutes too: Ctrl-C is honoured band by band and object by object.
      await writeMask(join(tmp, maskFile), width, height, (top, rows) => {
        o.signal?.throwIfAborted();
        const band = renderRegion(result, { left: 0, top, width, height: rows }).data;
        for (let i = 0; i < band.length; i++) foreground += band[i];
        return band;
      });
      const objects = objectWriter(join(tmp, 'objects.geojson'), join(tmp, 'objects.csv'));
      // An instance pair's objects also go out as a label map (what QuPath, napari and Fiji open): held whole and
      // written as labels.png (16-bit) or labels.tif (32-bit) when the image is small enough, else rendered band by
      // band from the object regions into a tiled pyramidal labels.tif. A semantic pair's objects are its mask's
      // components and need none. The overlay gets the labels at its own size either way.
      const small = overlaySize(width, height, o.overlaySide ?? OVERLAY_SIDE);
      const outline = result.instances ? nearestLabelsByBands(width, height, small.width, small.height) : undefined;
      const inMemory = width * height <= (o.labelMapInMemoryUpTo ?? LABEL_MAP_MAX_PIXELS);
      let count = 0;
      let labelFile: string | undefined;
      const add = async (region: ObjectRegion) => {
        for (const object of region.objects) {
          o.signal?.throwIfAborted();
          await objects.add(object);
          count++;
        }
      };
      try {
        const regions = detectObjectRegions(result, width, height, { minSize: o.minSize });
        if (!outline) {
          for (const region of regions) await add(region);
        } else if (inMemory) {
          const labels = new Int32Array(width * height);
          for (const region of regions) {
            await add(region);
            pasteLabels(labels, width, region);
          }
          outline.add(labels, 0, height);
          labelFile = basename(await writeLabelMap(tmp, { width, height, data: labels }));
        } else {
          const bands = labelBands(regions, width, add);
          labelFile = 'labels.tif';
          await writeLabelBands(join(tmp, labelFile), width, height, async (top, rows) => {
            o.signal?.throwIfAborted();
            const band = await bands.render(top, rows);
            outline.add(band, top, rows);
            return band;
          }, { pixelSizeUm: source.pixelSizeUm });
          await bands.finish();
        }
      } finally {
        await objects.close();
      }
      await writeOverlay(join(tmp, 'overlay.png'), source, result, small, outline?.map);
      const files = [maskFile, ...(labelFile ? [labelFile] : []), 'objects.geojson', 'objects.csv', 'overlay.png', SUMMARY_FILE];
      summary = {
        image: path,
        width,
        height,
        objects: count,
        objectKind: result.instances ? 'instances' : 'components',
        boxes: result.boxes.length,
        roughOnly: result.roughOnly,
        rough: result.rough,
        foregroundPixels: foreground,
        seconds: (performance.now() - started) / 1000,
        files,
        ...(o.provenance ? { provenance: o.provenance } : {}),
      };
      await writeFile(join(tmp, SUMMARY_FILE), JSON.stringify(summary, null, 2));
    });
    return summary!;
  } finally {
    await source.close();
  }
}

/** The image reduced to overlay size, the predicted objects outlined in green: each instance, else the mask. */
async function writeOverlay(path: string, source: Parameters<typeof downscaleReader>[0], fine: FineResults & { width: number; height: number }, size: { width: number; height: number }, labels?: LabelMap<Int32Array>) {
  const { width: w, height: h } = size;
  const picture = await downscaleReader(source, w, h).readRows(0, h);
  const color = [0, 255, 0] as const;
  // At overlay size, by PyTorch's nearest rule, as the mask is.
  const outline = labels ? { labels, color } : { mask: renderDownscaled(fine, { left: 0, top: 0, width: fine.width, height: fine.height }, w, h), color };
  const out = overlay(picture, { outline });
  await sharp(out.data, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path);
}
