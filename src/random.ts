/**
 * The project's one source of randomness: a seeded xoroshiro128+ from pure-rand, so that training crops, jitter
 * and splits are reproducible from a seed.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { ArgumentError } from './errors.js';

export interface Rng {
  /** Uniform integer in [from, to], both included. */
  int(from: number, to: number): number;
}

export function seededRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new ArgumentError('seed', `must be an integer, got ${String(seed)}`);
  const generator = xoroshiro128plus(seed);
  return { int: (from, to) => uniformInt(generator, from, to) };
}

/** Uniform float in [from, to), from 32 random bits (finer than any augmentation parameter needs). */
export function uniform(rng: Rng, from: number, to: number): number {
  return from + (to - from) * (rng.int(0, 0xffffffff) / 0x100000000);
}

/** Fisher-Yates shuffle of a copy of `items`. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/**
 * A seed for one stream among many (epoch e, sample i of run seed s), so that each sample's randomness depends only
 * on (s, e, i): reproducible whatever the batch size, the load order, or the epoch a run resumed at.
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    // FNV-1a over the 4 bytes of each 32-bit part, then a final avalanche.
    for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((p >>> (8 * k)) & 0xff), 0x01000193);
    h ^= Math.floor(p / 0x100000000) & 0xffff;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
