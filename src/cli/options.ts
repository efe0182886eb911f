/**
 * Parsers for command-line values: each names the flag it checks, so a typo is reported as the user wrote it, and
 * a value that sizes an allocation is bounded here, before any work, not by the first image's allocation.
 */
import { ArgumentError } from '../errors.js';
import { roughScaleProblem } from '../types/training-scale.js';

/** A whole number from 1 to `max` (when given: `why` says what the bound protects). */
export function positiveInteger(flag: string, max?: number, why?: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
      throw new ArgumentError(flag, `must be a positive integer, got '${value}'`);
    }
    if (max !== undefined && n > max) throw new ArgumentError(flag, `must be at most ${max.toLocaleString('en-US')}${why ? ` (${why})` : ''}, got ${n}`);
    return n;
  };
}

export function nonNegativeInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new ArgumentError(flag, `must be a whole number >= 0, got '${value}'`);
    return n;
  };
}

/** `--scale`: original pixels per rough input pixel, refused when it would enlarge images more than a little. */
export function roughScale(flag: string): (value: string) => number {
  const positive = positiveNumber(flag);
  return (value) => {
    const problem = roughScaleProblem(positive(value));
    if (problem) throw new ArgumentError(flag, `${problem}; give a larger --scale, or leave it out to use the rough model's training scale`);
    return Number(value);
  };
}

/** A stain factor: at least 1 (1: no stain augmentation). */
export function stainFactor(flag: string): (value: string) => number {
  const positive = positiveNumber(flag);
  return (value) => {
    const n = positive(value);
    if (n < 1) throw new ArgumentError(flag, `is a factor of at least 1 (1: none; 3: each stain up to 3x paler or darker), got '${value}'`);
    return n;
  };
}

export function oneOf<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new ArgumentError(flag, `must be one of ${choices.join(', ')}; got '${value}'`);
    }
    return value as T;
  };
}

export function integer(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new ArgumentError(flag, `must be an integer, got '${value}'`);
    return n;
  };
}

export function nonNegativeNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new ArgumentError(flag, `must be a number >= 0, got '${value}'`);
    return n;
  };
}

export function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new ArgumentError(flag, `must be a positive number, got '${value}'`);
    return n;
  };
}

/** A share: a number in [0, 1). */
export function share(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) throw new ArgumentError(flag, `must be a number from 0 up to (not including) 1, got '${value}'`);
    return n;
  };
}
