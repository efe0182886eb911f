/**
 * How an image whose samples are not 8- or 16-bit unsigned integers becomes the 0..255 the networks take: float
 * TIFFs (a normalised or computed image), signed integers (some microscopes, CT), 32-bit integers. Platform-free,
 * so that every reader (libvips in Node, geotiff.js in the browser) maps the same file to the same pixels.
 *
 * The rule, and why:
 * - Floats within 0..1 are multiplied by 255: 0..1 is the one convention that float images share (normalised
 *   intensity: 0 black, 1 white), so a dim image stays as dim as it is meant.
 * - Every other float, and signed or 32-bit integers, are mapped linearly from the image's own minimum..maximum to
 *   0..255. Their type's range says nothing about black and white: a signed 16-bit image typically holds, say,
 *   -200..3000 of -32768..32767, and mapping the type's range would give 8-bit values 127..139, a flat gray picture
 *   no network was trained on. (Unsigned 16-bit images keep the rule training uses, value >> 8.)
 * - Complex samples and floats with NaN or infinite values have no such mapping: they are refused by name.
 */

/** libvips' names of sample types (sharp's `metadata().depth`). */
export type SampleType = 'uchar' | 'char' | 'ushort' | 'short' | 'uint' | 'int' | 'float' | 'double' | 'complex' | 'dpcomplex';

/** 8-bit value = sample x multiply + add, rounded and clipped to 0..255. */
export interface SampleScaling {
  readonly multiply: number;
  readonly add: number;
  /** What was done, for a log line: "32-bit float samples in 0..1, scaled x 255". */
  readonly description: string;
}

const NAMES: Record<SampleType, string> = {
  uchar: '8-bit unsigned',
  char: '8-bit signed',
  ushort: '16-bit unsigned',
  short: '16-bit signed',
  uint: '32-bit unsigned',
  int: '32-bit signed',
  float: '32-bit float',
  double: '64-bit float',
  complex: 'complex',
  dpcomplex: 'complex',
};

/** Whether samples of this type need `sampleScaling` (and so the image's range): all but 8/16-bit unsigned. */
export function needsScaling(type: string): boolean {
  return type !== 'uchar' && type !== 'ushort';
}

/**
 * The mapping of samples of `type` whose smallest and largest values (over the image's colour channels) are
 * `min` and `max`; a string saying why there is none.
 */
export function sampleScaling(type: SampleType, min: number, max: number): SampleScaling | string {
  const name = NAMES[type] ?? type;
  if (type === 'complex' || type === 'dpcomplex') return `${name} samples (a transform, not an image); give the image itself`;
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    return `${name} samples include NaN or infinite values; replace them (e.g. with 0) or save the image as 8 or 16 bits`;
  }
  const float = type === 'float' || type === 'double';
  if (float && min >= 0 && max <= 1) return { multiply: 255, add: 0, description: `${name} samples in 0..1, scaled x 255` };
  const range = `${format(min)}..${format(max)}`;
  if (max === min) return { multiply: 0, add: 0, description: `${name} samples all ${format(min)} (no contrast), read as 0` };
  const multiply = 255 / (max - min);
  return {
    multiply,
    add: -min * multiply,
    description: `${name} samples in ${range}, scaled linearly from that range to 0..255 (${float ? 'float values outside 0..1' : 'signed and 32-bit samples'} have no fixed black and white)`,
  };
}

function format(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}
