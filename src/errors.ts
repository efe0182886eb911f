/**
 * Errors the user can act on. Every message names the argument or file that was wrong and says what to do;
 * the CLI prints `message` alone (no stack trace) for these.
 */
export class StsError extends Error {
  override name = 'StsError';
}

/** A bad argument to a public function or command: `argument` is its name as the caller wrote it. */
export class ArgumentError extends StsError {
  override name = 'ArgumentError';
  constructor(
    readonly argument: string,
    problem: string,
  ) {
    super(`${argument}: ${problem}`);
  }
}
