/**
 * The reference code's own results (marinbenc/segment-then-segment, test_all_results.csv at commit 417082b: one row
 * per test image, per dataset, architecture and input size S), as the mean over its test images of the per-image DSC
 * and recall, baseline -> Segment-then-Segment. These are the numbers behind the paper's Tables A1 (U-Net), A2
 * (Res-U-Net++: in the code a U-Net++ with a ResNet-34 encoder) and A3 (DeepLabv3+), for the two datasets this
 * repository reproduces on real data (its aorta set is semi-synthetic, so the reference's AVT rows are not comparable
 * and not listed). `sts reproduce` prints ours beside them.
 */
import type { ModelName } from '../models/index.js';

export interface ReferenceCell {
  /** Test images the mean is over. */
  readonly n: number;
  /** Mean per-image DSC: baseline, Segment-then-Segment. */
  readonly dsc: readonly [number, number];
  /** Mean per-image recall: baseline, Segment-then-Segment. */
  readonly recall: readonly [number, number];
}

export const REFERENCE_RESULTS: Readonly<Record<'cells' | 'polyp', Readonly<Record<ModelName, Readonly<Record<number, ReferenceCell>>>>>> = {
  cells: {
    unet: {
      32: { n: 67, dsc: [0.573, 0.806], recall: [0.574, 0.809] },
      48: { n: 67, dsc: [0.655, 0.832], recall: [0.659, 0.854] },
      64: { n: 67, dsc: [0.757, 0.843], recall: [0.768, 0.862] },
      96: { n: 67, dsc: [0.777, 0.835], recall: [0.789, 0.867] },
      128: { n: 67, dsc: [0.845, 0.845], recall: [0.847, 0.869] },
      192: { n: 67, dsc: [0.845, 0.847], recall: [0.857, 0.876] },
      256: { n: 67, dsc: [0.876, 0.849], recall: [0.866, 0.875] },
    },
    resunetpp: {
      32: { n: 67, dsc: [0.576, 0.809], recall: [0.592, 0.834] },
      64: { n: 67, dsc: [0.752, 0.866], recall: [0.763, 0.874] },
      128: { n: 67, dsc: [0.847, 0.869], recall: [0.862, 0.886] },
      256: { n: 67, dsc: [0.892, 0.855], recall: [0.896, 0.885] },
    },
    deeplabv3plus: {
      32: { n: 67, dsc: [0.430, 0.505], recall: [0.536, 0.464] },
      64: { n: 67, dsc: [0.669, 0.804], recall: [0.720, 0.832] },
      128: { n: 67, dsc: [0.814, 0.843], recall: [0.837, 0.873] },
      256: { n: 67, dsc: [0.876, 0.857], recall: [0.895, 0.886] },
    },
  },
  polyp: {
    unet: {
      32: { n: 100, dsc: [0.724, 0.765], recall: [0.745, 0.773] },
      48: { n: 100, dsc: [0.784, 0.817], recall: [0.844, 0.858] },
      64: { n: 100, dsc: [0.818, 0.838], recall: [0.848, 0.867] },
      96: { n: 100, dsc: [0.839, 0.852], recall: [0.889, 0.899] },
      128: { n: 100, dsc: [0.829, 0.814], recall: [0.889, 0.852] },
      192: { n: 100, dsc: [0.844, 0.842], recall: [0.864, 0.875] },
      256: { n: 100, dsc: [0.838, 0.847], recall: [0.844, 0.874] },
    },
    resunetpp: {
      32: { n: 100, dsc: [0.689, 0.710], recall: [0.719, 0.730] },
      64: { n: 100, dsc: [0.799, 0.813], recall: [0.812, 0.822] },
      128: { n: 100, dsc: [0.842, 0.833], recall: [0.889, 0.894] },
      256: { n: 100, dsc: [0.845, 0.837], recall: [0.883, 0.862] },
    },
    deeplabv3plus: {
      32: { n: 100, dsc: [0.650, 0.693], recall: [0.668, 0.703] },
      64: { n: 100, dsc: [0.766, 0.775], recall: [0.825, 0.801] },
      128: { n: 100, dsc: [0.836, 0.850], recall: [0.866, 0.870] },
      256: { n: 100, dsc: [0.877, 0.872], recall: [0.904, 0.901] },
    },
  },
};
