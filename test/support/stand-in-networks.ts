/**
 * Stand-in networks for instance tests on synthetic images where nuclei are grey (128) with a bright centre (255):
 * the foreground is everything above 100, the core everything above 200.
 */
import type { Raster } from '../../src/geometry/raster.js';
import { flowToUnit, flowsOfLabels } from '../../src/instances/flow-target.js';
import { splitByCores } from '../../src/instances/split-by-cores.js';

/** Two maps per pixel, interleaved (foreground, core), as an instance model gives them. */
export const instanceNet = Object.assign(
  async (inputs: Raster<Float32Array>[]) =>
    inputs.map((x) => {
      const out = new Float32Array(x.width * x.height * 2);
      for (let i = 0; i < x.width * x.height; i++) {
        out[2 * i] = x.data[i * x.channels] > 100 ? 1 : 0;
        out[2 * i + 1] = x.data[i * x.channels] > 200 ? 1 : 0;
      }
      return out;
    }),
  { outputs: 2 as const },
);

/** The foreground alone: a rough (or semantic fine) network. */
export const roughNet = async (inputs: Raster<Float32Array>[]) =>
  inputs.map((x) => Float32Array.from({ length: x.width * x.height }, (_, i) => (x.data[i * x.channels] > 100 ? 1 : 0)));

/**
 * Three maps per pixel, interleaved (foreground, flow dy, flow dx), as a flow model gives them: the flows of the
 * crop's nuclei as the cores split its foreground.
 */
export const flowNet = Object.assign(
  async (inputs: Raster<Float32Array>[]) =>
    inputs.map((x) => {
      const n = x.width * x.height;
      const foreground = Uint8Array.from({ length: n }, (_, i) => (x.data[i * x.channels] > 100 ? 1 : 0));
      const core = Uint8Array.from({ length: n }, (_, i) => (x.data[i * x.channels] > 200 ? 1 : 0));
      const flows = flowsOfLabels(splitByCores(foreground, core, x.width, x.height, { minSize: 0 }));
      const out = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) {
        out[3 * i] = foreground[i];
        out[3 * i + 1] = flowToUnit(flows[2 * i]);
        out[3 * i + 2] = flowToUnit(flows[2 * i + 1]);
      }
      return out;
    }),
  { outputs: 3 as const },
);
