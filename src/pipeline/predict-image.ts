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
import { type FineResults, OVERLAY_SIDE, detectObjectRegions, overlaySize, pasteLabels, renderDownscaled, renderRegion } from './fine-results.js';
import { writeLabelMap } from '../io/label-maps.js';
import type { LabelMap } from '../geometry/label-map.js';
import { nearestSourceIndices } from '../geometry/resize.js';
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
  /** Told, one line each, what was chosen or converted in reading the image (its series, a scaling of its samples). */
  readonly note?: (line: string) => void;
  /** What produced this result (the input file's identity, the models, the options), kept in summary.json. */
  readonly provenance?: Record<string, unknown>;
}

export interface PredictImageSummary {
  readonly image: string;
  readonly width: number;
  readonly height: number;
  readonly objects: number;
  /** `instances` (an instance pair: touching objects apart) or `components` (the mask's connected components). */
  readonly objectKind: 'instances' | 'components';
  /** Why an instance result has no label map file. */
  readonly labelsLeftOut?: string;
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

/** Largest image whose instance label map is written (4 bytes a pixel in memory: 100 megapixels, 400 MB). */
export const LABEL_MAP_MAX_PIXELS = 100_000_000;

/** A label map reduced to `w` x `h` by the nearest rule (labels are never averaged). */
function nearestLabels(labels: Int32Array, width: number, height: number, w: number, h: number): LabelMap<Int32Array> {
  const rows = nearestSourceIndices(height, h);
  const cols = nearestSourceIndices(width, w);
  const data = new Int32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = labels[rows[y] * width + cols[x]];
  return { width: w, height: h, data };
}


export async function predictImage(path: string, outDir: string, o: PredictImageOptions): Promise<PredictImageSummary> {
  const started = performance.now();
  const source = await openImageSource(path, { channels: o.channels, tempDir: o.tempDir, series: o.series, note: o.note });
  try {
    const result = await streamingSegmentThenSegment(source, { ...o, scale: scaleForPixelSize(o.scale, source.pixelSizeUm) });
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
      }, { tempDir: o.tempDir });
      const objects = objectWriter(join(tmp, 'objects.geojson'), join(tmp, 'objects.csv'));
      // An instance pair's objects also go out as a label map (what QuPath, napari and Fiji open), when it fits
      // in memory; a semantic pair's objects are its mask's components and need none.
      const labels = result.instances && width * height <= LABEL_MAP_MAX_PIXELS ? new Int32Array(width * height) : undefined;
      let count = 0;
      try {
        for (const region of detectObjectRegions(result, width, height)) {
          for (const object of region.objects) {
            o.signal?.throwIfAborted();
            await objects.add(object);
            count++;
          }
          if (labels) pasteLabels(labels, width, region);
        }
      } finally {
        await objects.close();
      }
      const labelFile = labels ? basename(await writeLabelMap(tmp, { width, height, data: labels })) : undefined;
      await writeOverlay(join(tmp, 'overlay.png'), source, result, o.overlaySide ?? OVERLAY_SIDE, labels);
      const files = [maskFile, ...(labelFile ? [labelFile] : []), 'objects.geojson', 'objects.csv', 'overlay.png', SUMMARY_FILE];
      summary = {
        image: path,
        width,
        height,
        objects: count,
        objectKind: result.instances ? 'instances' : 'components',
        ...(result.instances && !labelFile ? { labelsLeftOut: `the image has more than ${LABEL_MAP_MAX_PIXELS} pixels; the objects are in objects.geojson and objects.csv` } : {}),
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

/** The image reduced to at most `side` pixels, the predicted objects outlined in green (the mask at that size). */
async function writeOverlay(path: string, source: Parameters<typeof downscaleReader>[0], fine: FineResults & { width: number; height: number }, side: number, labels?: Int32Array) {
  const { width: w, height: h } = overlaySize(fine.width, fine.height, side);
  const picture = await downscaleReader(source, w, h).readRows(0, h);
  const color = [0, 255, 0] as const;
  // Instances are outlined one by one (at overlay size, by PyTorch's nearest rule, as the mask is).
  const outline = labels
    ? { labels: nearestLabels(labels, fine.width, fine.height, w, h), color }
    : { mask: renderDownscaled(fine, { left: 0, top: 0, width: fine.width, height: fine.height }, w, h), color };
  const out = overlay(picture, { outline });
  await sharp(out.data, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path);
}
