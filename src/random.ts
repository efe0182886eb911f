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
