/** Thrown by a native kernel, before it makes any output, for inputs or attributes it leaves to the cpu fallback. */
export class UseFallback extends Error {
  constructor(why: string) {
    super(`not native: ${why}`);
  }
}
