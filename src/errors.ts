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

/** A dataset that cannot be trained on; `problems` lists every one found, the message the first few. */
export class DatasetError extends StsError {
  override name = 'DatasetError';
  constructor(
    readonly root: string,
    readonly problems: readonly string[],
    shown = 5,
  ) {
    const more = problems.length > shown ? `\n  ... and ${problems.length - shown} more` : '';
    super(
      `${root}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in this dataset; fix or remove these files and run again:\n  ` +
        problems.slice(0, shown).join('\n  ') +
        more,
    );
  }
}
