/** Parsers for command-line values: each names the flag it checks, so a typo is reported as the user wrote it. */
import { ArgumentError } from '../errors.js';

export function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
      throw new ArgumentError(flag, `must be a positive integer, got '${value}'`);
    }
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

export function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new ArgumentError(flag, `must be a positive number, got '${value}'`);
    return n;
  };
}
