/**
 * A CT-like volume (Hounsfield units) painted around a real label volume: the AVT CT images cannot be had here,
 * only their aorta labels, so the aorta experiment runs on semi-synthetic scans whose shapes are real and whose
 * intensities are made up. Results on them must always be called semi-synthetic.
 *
 * What is painted, per axial slice, following the label's own course through the body so that the anatomy moves
 * with the aorta: air, a body ellipse with a subcutaneous fat ring and a slowly varying soft-tissue texture,
 * lungs in the upper part, ribs, a vertebra behind the aorta (cortical shell, cancellous bone inside the aorta
 * window, discs, canal and spinous process), kidneys with enhancing cortex, the inferior vena cava, bowel gas,
 * thin contrast-filled arteries that are not labelled (the distractors a real CTA has), then the aorta itself
 * (contrast at a per-patient level that drifts along z, with a few wall calcifications), a partial-volume blur
 * and scanner noise. Every labelled voxel is aorta, every aorta voxel is labelled (calcifications included).
 */
import { ArgumentError } from '../errors.js';
import { deriveSeed, type Rng, seededRng, uniform } from '../random.js';
import type { Volume } from '../io/volume.js';

export interface SemiSyntheticOptions {
  /** Seed of this volume's anatomy and noise (derive it from the dataset seed and the patient). */
  readonly seed: number;
}

const AIR = -1000;
const FAT = -100;
const TISSUE = 45;
const LUNG = -850;
const CORTICAL_BONE = 750;
const CANCELLOUS_BONE = 230;
const DISC = 90;
const KIDNEY_CORTEX = 170;
const KIDNEY_MEDULLA = 60;
const IVC = 110;
const GAS = -850;
const CALCIFICATION = 850;
const HU_MIN = -1024;
const HU_MAX = 3071;

/** One per-patient draw of everything that is not the label. */
interface Anatomy {
  readonly aortaHu: number;
  readonly aortaDriftHu: number;
  readonly noiseSd: number;
  readonly bodyA: number;
  readonly bodyB: number;
  readonly bodyCx: number;
  readonly bodyCy: number;
  readonly fatMm: number;
  readonly discPhaseMm: number;
  readonly kidneyBand: readonly [number, number];
  readonly lungFrom: number;
  readonly ribFrom: number;
  readonly gas: readonly Tube[];
  readonly arteries: readonly Tube[];
  readonly calcifications: readonly { z: number; x: number; y: number; r: number }[];
}

/** A cylinder-like structure drifting linearly in x, y between slices z0 and z1 (pixels). */
interface Tube {
  readonly z0: number;
  readonly z1: number;
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  readonly r: number;
  readonly hu: number;
}

/**
 * The CT volume for `labels` (any label volume: every non-zero voxel of any layer is aorta), same size and
 * spacing, as int16 HU.
 */
export function synthesizeCt(labels: Volume, options: SemiSyntheticOptions): Volume<Int16Array> {
  const { width: W, height: H, depth: D } = labels;
  if (W < 8 || H < 8 || D < 1) throw new ArgumentError('labels', `a ${W} x ${H} x ${D} volume is too small to paint a body around`);
  const plane = W * H;
  const mask = unionMask(labels);
  const [sx, sy, sz] = labels.spacing;
  const rng = seededRng(options.seed);
  const trunk = trunkCourse(mask, W, H, D);
  const anatomy = drawAnatomy(rng, mask, trunk, W, H, D, [sx, sy, sz]);
  const noise = normalTable(seededRng(deriveSeed(options.seed, 1)));
  const noiseRng = seededRng(deriveSeed(options.seed, 2));
  const textureRng = seededRng(deriveSeed(options.seed, 3));
  const texture = new TextureField(W, H, 24, textureRng);

  const out = new Int16Array(plane * D);
  const slice = new Float32Array(plane);
  const blurred = new Float32Array(plane);
  for (let z = 0; z < D; z++) {
    texture.advance();
    paintSlice(slice, z, anatomy, trunk[z], texture, W, H, D, [sx, sy, sz]);
    // The aorta last: every labelled voxel is contrast-filled lumen, whatever was painted under it.
    const t = D > 1 ? z / (D - 1) : 0;
    const aortaHu = anatomy.aortaHu + anatomy.aortaDriftHu * (t - 0.5);
    const m = mask.subarray(z * plane, (z + 1) * plane);
    for (let i = 0; i < plane; i++) if (m[i]) slice[i] = aortaHu + 0.3 * texture.at(i);
    for (const c of anatomy.calcifications) {
      if (c.z !== z) continue;
      paintDisc(slice, W, H, c.x, c.y, c.r, c.r, (i) => (m[i] ? CALCIFICATION : slice[i]));
    }
    blur3(slice, blurred, W, H);
    const o = z * plane;
    for (let y = 0; y < H; y++) {
      // A random start into a large table of normals per row: scanner noise at a fraction of the cost of drawing.
      let k = noiseRng.int(0, noise.length - 1);
      for (let x = 0, i = y * W; x < W; x++, i++) {
        const v = Math.round(blurred[i] + anatomy.noiseSd * noise[k]);
        out[o + i] = v < HU_MIN ? HU_MIN : v > HU_MAX ? HU_MAX : v;
        k = k + 1 === noise.length ? 0 : k + 1;
      }
    }
  }
  return { width: W, height: H, depth: D, data: out, spacing: labels.spacing };
}

/** Every non-zero voxel of any layer, as one 0/1 volume. */
function unionMask(labels: Volume): Uint8Array {
  const components = labels.components ?? 1;
  const n = labels.width * labels.height * labels.depth;
  const out = new Uint8Array(n);
  const d = labels.data;
  for (let i = 0, j = 0; i < n; i++, j += components) {
    for (let k = 0; k < components; k++) if (d[j + k] !== 0) out[i] = 1;
  }
  return out;
}

/**
 * The aorta's in-plane position per slice (median of its voxels), carried over slices without label and smoothed
 * along z, so that spine, kidneys and vena cava follow the vessel without jumping where it branches.
 */
function trunkCourse(mask: Uint8Array, W: number, H: number, D: number): { x: number; y: number }[] {
  const plane = W * H;
  const raw: ({ x: number; y: number } | undefined)[] = [];
  const xs: number[] = [];
  const ys: number[] = [];
  for (let z = 0; z < D; z++) {
    xs.length = 0;
    ys.length = 0;
    for (let i = 0, o = z * plane; i < plane; i++) {
      if (mask[o + i]) {
        xs.push(i % W);
        ys.push(Math.floor(i / W));
      }
    }
    raw.push(xs.length ? { x: median(xs), y: median(ys) } : undefined);
  }
  const known = raw.findIndex((p) => p !== undefined);
  const fallback = { x: W / 2, y: H / 2 };
  let last = known >= 0 ? (raw[known] as { x: number; y: number }) : fallback;
  const filled = raw.map((p) => (last = p ?? last));
  const half = 5;
  return filled.map((_, z) => {
    let x = 0;
    let y = 0;
    let n = 0;
    for (let k = Math.max(0, z - half); k <= Math.min(D - 1, z + half); k++, n++) {
      x += filled[k].x;
      y += filled[k].y;
    }
    return { x: x / n, y: y / n };
  });
}

function median(values: number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

function drawAnatomy(
  rng: Rng,
  mask: Uint8Array,
  trunk: readonly { x: number; y: number }[],
  W: number,
  H: number,
  D: number,
  [sx, sy]: readonly [number, number, number],
): Anatomy {
  const meanY = trunk.reduce((s, p) => s + p.y, 0) / trunk.length;
  const bodyCx = W / 2 + uniform(rng, -8, 8) / sx;
  // The abdominal aorta lies behind the body's centre, in front of the spine.
  const bodyCy = meanY - uniform(rng, 20, 35) / sy;
  let bodyA = uniform(rng, 150, 185) / sx;
  let bodyB = uniform(rng, 105, 130) / sy;
  // Grow the body until every labelled voxel lies well inside it (at most 80% of the way to the skin).
  const plane = W * H;
  let worst = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const p = i % plane;
    const dx = (p % W - bodyCx) / bodyA;
    const dy = (Math.floor(p / W) - bodyCy) / bodyB;
    worst = Math.max(worst, dx * dx + dy * dy);
  }
  if (worst > 0.64) {
    const grow = Math.sqrt(worst / 0.64);
    bodyA *= grow;
    bodyB *= grow;
  }
  const kidneyStart = uniform(rng, 0.3, 0.45);
  const tubes = (count: number, make: () => Tube): Tube[] => Array.from({ length: count }, make);
  const randomTube = (rMm: [number, number], hu: () => number, anteriorOnly: boolean): Tube => {
    const len = Math.max(1, Math.round(uniform(rng, 0.15, 0.5) * D));
    const z0 = rng.int(0, Math.max(0, D - len));
    const at = () => {
      const angle = uniform(rng, anteriorOnly ? Math.PI * 1.1 : 0, anteriorOnly ? Math.PI * 1.9 : 2 * Math.PI);
      const radius = Math.sqrt(uniform(rng, 0.05, 0.45));
      return { x: bodyCx + Math.cos(angle) * radius * bodyA, y: bodyCy + Math.sin(angle) * radius * bodyB };
    };
    const a = at();
    const b = at();
    return { z0, z1: z0 + len - 1, x0: a.x, y0: a.y, x1: (a.x + b.x) / 2, y1: (a.y + b.y) / 2, r: uniform(rng, rMm[0], rMm[1]) / sx, hu: hu() };
  };
  const aortaHu = uniform(rng, 280, 420);
  const gas = tubes(rng.int(3, 8), () => randomTube([4, 14], () => GAS, true));
  const arteries = tubes(rng.int(2, 4), () => randomTube([1.5, 3], () => aortaHu * uniform(rng, 0.75, 1), false));
  // Calcified plaque: small discs on the lumen's edge, inside the label.
  const calcifications: { z: number; x: number; y: number; r: number }[] = [];
  const count = rng.int(0, 12);
  for (let tries = 0; calcifications.length < count && tries < 200; tries++) {
    const z = rng.int(0, D - 1);
    const p = z * plane + rng.int(0, plane - 1);
    // Walk to the next labelled voxel with an unlabelled right neighbour: a point on the wall.
    for (let i = p; i < Math.min(mask.length - 1, p + plane); i++) {
      if (mask[i] && !mask[i + 1]) {
        const q = i % plane;
        calcifications.push({ z: Math.floor(i / plane), x: q % W, y: Math.floor(q / W), r: uniform(rng, 1, 2.2) / sx });
        break;
      }
    }
  }
  return {
    aortaHu,
    aortaDriftHu: uniform(rng, -60, 60),
    noiseSd: uniform(rng, 12, 25),
    bodyA,
    bodyB,
    bodyCx,
    bodyCy,
    fatMm: uniform(rng, 8, 25),
    discPhaseMm: uniform(rng, 0, 32),
    kidneyBand: [kidneyStart, kidneyStart + uniform(rng, 0.15, 0.25)],
    lungFrom: uniform(rng, 0.7, 0.85),
    ribFrom: uniform(rng, 0.5, 0.65),
    gas,
    arteries,
    calcifications,
  };
}

function paintSlice(
  slice: Float32Array,
  z: number,
  a: Anatomy,
  trunk: { x: number; y: number },
  texture: TextureField,
  W: number,
  H: number,
  D: number,
  [sx, sy, sz]: readonly [number, number, number],
): void {
  const t = D > 1 ? z / (D - 1) : 0;
  // The body is a little wider in the chest.
  const A = a.bodyA * (1 + 0.06 * t);
  const B = a.bodyB * (1 + 0.04 * t);
  const fatA = 1 - a.fatMm / sx / A;
  for (let y = 0, i = 0; y < H; y++) {
    const dy = (y - a.bodyCy) / B;
    for (let x = 0; x < W; x++, i++) {
      const dx = (x - a.bodyCx) / A;
      const r2 = dx * dx + dy * dy;
      slice[i] = r2 > 1 ? AIR : r2 > fatA * fatA ? FAT + 0.5 * texture.at(i) : TISSUE + texture.at(i);
    }
  }
  const mm = (v: number, s: number) => v / s;
  if (t >= a.lungFrom) {
    const grow = Math.min(1, (t - a.lungFrom) / 0.08);
    for (const side of [-1, 1]) {
      paintDisc(slice, W, H, a.bodyCx + side * 0.5 * A, a.bodyCy + 0.05 * B, 0.36 * A * grow, 0.62 * B * grow, (i) => LUNG + texture.at(i));
    }
  }
  if (t >= a.ribFrom) {
    for (let k = 0; k < 12; k++) {
      const angle = (k / 12) * 2 * Math.PI + 0.13;
      // Leave out the sternum's and the spine's directions; ribs come and go along z as they slope.
      if (Math.abs(Math.sin(angle)) > 0.92) continue;
      if (Math.sin(2 * Math.PI * ((z * sz) / 28 + k * 0.37)) < 0.1) continue;
      const rx = a.bodyCx + Math.cos(angle) * (1 - a.fatMm / sx / A - 0.05) * A;
      const ry = a.bodyCy + Math.sin(angle) * (1 - a.fatMm / sy / B - 0.05) * B;
      paintDisc(slice, W, H, rx, ry, mm(4, sx), mm(6, sy), () => CORTICAL_BONE);
    }
  }
  // Kidneys: enhancing cortex around a darker medulla, either side of the spine, within their band of slices.
  const [k0, k1] = a.kidneyBand;
  if (t >= k0 && t <= k1) {
    const s = Math.sin((Math.PI * (t - k0)) / (k1 - k0));
    for (const side of [-1, 1]) {
      const kx = trunk.x + side * mm(65, sx) - mm(8, sx);
      const ky = trunk.y + mm(22, sy);
      paintDisc(slice, W, H, kx, ky, mm(28, sx) * s, mm(22, sy) * s, () => KIDNEY_CORTEX);
      paintDisc(slice, W, H, kx, ky, mm(20, sx) * s, mm(14, sy) * s, () => KIDNEY_MEDULLA);
    }
  }
  if (t < a.lungFrom) paintDisc(slice, W, H, trunk.x - mm(28, sx), trunk.y + mm(4, sy), mm(10, sx), mm(9, sy), () => IVC);
  paintSpine(slice, W, H, trunk, z * sz + a.discPhaseMm, sx, sy);
  for (const g of a.gas) paintTube(slice, W, H, z, g);
  for (const v of a.arteries) paintTube(slice, W, H, z, v);
}

/** Vertebra behind the aorta, slightly to the patient's right: body, canal, arch and spinous process. */
function paintSpine(slice: Float32Array, W: number, H: number, trunk: { x: number; y: number }, zMm: number, sx: number, sy: number): void {
  const cx = trunk.x - 8 / sx;
  const cy = trunk.y + 36 / sy;
  const inDisc = zMm % 32 < 7;
  if (inDisc) {
    paintDisc(slice, W, H, cx, cy, 21 / sx, 16 / sy, () => DISC);
  } else {
    paintDisc(slice, W, H, cx, cy, 22 / sx, 17 / sy, () => CORTICAL_BONE);
    paintDisc(slice, W, H, cx, cy, 20 / sx, 15 / sy, () => CANCELLOUS_BONE);
  }
  const canalY = cy + 28 / sy;
  paintDisc(slice, W, H, cx, canalY + 2 / sy, 14 / sx, 13 / sy, () => CORTICAL_BONE * 0.8);
  paintDisc(slice, W, H, cx, canalY, 9 / sx, 8 / sy, () => TISSUE - 25);
  paintDisc(slice, W, H, cx, canalY + 22 / sy, 3 / sx, 11 / sy, () => CORTICAL_BONE * 0.8);
}

function paintTube(slice: Float32Array, W: number, H: number, z: number, tube: Tube): void {
  if (z < tube.z0 || z > tube.z1) return;
  const f = tube.z1 > tube.z0 ? (z - tube.z0) / (tube.z1 - tube.z0) : 0;
  paintDisc(slice, W, H, tube.x0 + f * (tube.x1 - tube.x0), tube.y0 + f * (tube.y1 - tube.y0), tube.r, tube.r, () => tube.hu);
}

/** Sets every pixel of the ellipse centred at (cx, cy) with semi-axes (rx, ry) to `value(index)`. */
function paintDisc(slice: Float32Array, W: number, H: number, cx: number, cy: number, rx: number, ry: number, value: (i: number) => number): void {
  if (!(rx > 0 && ry > 0)) return;
  const y0 = Math.max(0, Math.ceil(cy - ry));
  const y1 = Math.min(H - 1, Math.floor(cy + ry));
  for (let y = y0; y <= y1; y++) {
    const dy = (y - cy) / ry;
    const half = rx * Math.sqrt(Math.max(0, 1 - dy * dy));
    const x0 = Math.max(0, Math.ceil(cx - half));
    const x1 = Math.min(W - 1, Math.floor(cx + half));
    for (let x = x0, i = y * W + x0; x <= x1; x++, i++) slice[i] = value(i);
  }
}

/** The partial-volume effect: a separable [1 2 1] / 4 blur in-plane, edges repeated. */
function blur3(src: Float32Array, dst: Float32Array, W: number, H: number): void {
  const tmp = new Float32Array(src.length);
  for (let y = 0; y < H; y++) {
    const o = y * W;
    for (let x = 0; x < W; x++) {
      const l = src[o + (x > 0 ? x - 1 : x)];
      const r = src[o + (x < W - 1 ? x + 1 : x)];
      tmp[o + x] = 0.25 * l + 0.5 * src[o + x] + 0.25 * r;
    }
  }
  for (let y = 0; y < H; y++) {
    const up = (y > 0 ? y - 1 : y) * W;
    const down = (y < H - 1 ? y + 1 : y) * W;
    const o = y * W;
    for (let x = 0; x < W; x++) dst[o + x] = 0.25 * tmp[up + x] + 0.5 * tmp[o + x] + 0.25 * tmp[down + x];
  }
}

/** 2^20 standard normals (Box-Muller) from the project's seeded generator. */
function normalTable(rng: Rng): Float32Array {
  const out = new Float32Array(1 << 20);
  for (let i = 0; i < out.length; i += 2) {
    const u1 = (rng.int(1, 0xffffffff) / 0x100000000);
    const u2 = rng.int(0, 0xffffffff) / 0x100000000;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/**
 * Soft-tissue texture (organs, fat lobules): a coarse grid of random HU offsets, bilinearly interpolated, that
 * evolves slowly from slice to slice so that neighbouring slices look alike.
 */
class TextureField {
  private readonly gw: number;
  private readonly gh: number;
  private readonly grid: Float32Array;
  private readonly values: Float32Array;

  constructor(
    private readonly W: number,
    private readonly H: number,
    private readonly step: number,
    private readonly rng: Rng,
  ) {
    this.gw = Math.ceil(W / step) + 1;
    this.gh = Math.ceil(H / step) + 1;
    this.grid = new Float32Array(this.gw * this.gh);
    for (let i = 0; i < this.grid.length; i++) this.grid[i] = this.normal() * 12;
    this.values = new Float32Array(W * H);
  }

  private normal(): number {
    // Sum of four uniforms: near-normal and cheap; only the grid draws from it.
    let s = 0;
    for (let k = 0; k < 4; k++) s += uniform(this.rng, -1, 1);
    return s * 0.866;
  }

  /** Moves to the next slice: 85% of the old field plus fresh variation, keeping the spread constant. */
  advance(): void {
    for (let i = 0; i < this.grid.length; i++) this.grid[i] = 0.85 * this.grid[i] + 0.527 * this.normal() * 12;
    const { W, H, step, gw } = this;
    for (let y = 0, i = 0; y < H; y++) {
      const gy = Math.floor(y / step);
      const fy = y / step - gy;
      for (let x = 0; x < W; x++, i++) {
        const gx = Math.floor(x / step);
        const fx = x / step - gx;
        const a = this.grid[gy * gw + gx];
        const b = this.grid[gy * gw + gx + 1];
        const c = this.grid[(gy + 1) * gw + gx];
        const d = this.grid[(gy + 1) * gw + gx + 1];
        this.values[i] = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
      }
    }
  }

  at(i: number): number {
    return this.values[i];
  }
}
