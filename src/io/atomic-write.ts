/**
 * Output files and folders that are either complete or absent: written under a temporary name beside the target and renamed
 * into place, so an interrupted write (Ctrl-C, a crash, SIGKILL, a full disk) never leaves a folder that looks
 * finished. Model checkpoints, prediction results and generated datasets all go through here.
 *
 * The steps, each a rename or a removal: write `<dir>.sts-tmp-X`; when it is complete, rename it `<dir>.sts-new-X`;
 * move an existing `<dir>` aside to `<dir>.sts-old-X`; rename `<dir>.sts-new-X` to `<dir>`; remove `<dir>.sts-old-X`.
 * Whatever step a crash stops at, `recoverFolder` finds the last complete state: a `tmp` folder is unfinished and
 * goes, a `new` one is complete and is promoted, an `old` one is restored when nothing newer is complete.
 *
 * A user's folder is never taken for one of ours. Every folder written here carries a marker file (OUTPUT_MARKER,
 * written first, so even an unfinished temporary folder has it); an existing folder is replaced, and a leftover
 * is promoted, restored or removed, only when it carries the marker and its name matches the exact leftover pattern
 * (X is 16 hex digits). `results.old-backup/` or a dataset folder that happens to share a result's name is left as
 * it is.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ArgumentError, StsError } from '../errors.js';

const exists = (path: string) => stat(path).then(() => true, () => false);

/** The file that marks a folder as written by sts (results, checkpoints, compacted models, generated data). */
export const OUTPUT_MARKER = '.sts-output';
const MARKER_TEXT = `${JSON.stringify({ writtenBy: 'segment-then-segment', note: 'sts may replace this folder when it writes the same output again' })}\n`;

/** Whether `dir` is a folder that sts wrote (it carries the marker file). */
export async function isOurFolder(dir: string): Promise<boolean> {
  const s = await stat(join(dir, OUTPUT_MARKER)).catch(() => undefined);
  return s?.isFile() === true;
}

/**
 * Marks `dir` as written by sts: for folders that earlier versions wrote without the marker, and that the caller
 * has recognised by their contents (a result recording the same input, a checkpoint of a run it holds the lock of).
 */
export async function adoptFolder(dir: string): Promise<void> {
  await writeFile(join(dir, OUTPUT_MARKER), MARKER_TEXT);
}

type LeftoverKind = 'tmp' | 'new' | 'old';
const SUFFIX_DIGITS = 16;

/** The name of an interrupted write's leftover of the folder `name`: `<name>.sts-<kind>-<16 hex digits>`. */
const leftoverName = (name: string, kind: LeftoverKind, suffix: string) => `${name}.sts-${kind}-${suffix}`;

/** Whether `entry` is a leftover name of the folder `name` (of `kind`, or of any kind). */
export function isLeftoverName(entry: string, name: string, kind?: LeftoverKind): boolean {
  if (!entry.startsWith(`${name}.sts-`)) return false;
  const m = new RegExp(`^\\.sts-(tmp|new|old)-[0-9a-f]{${SUFFIX_DIGITS}}$`).exec(entry.slice(name.length));
  return m !== null && (kind === undefined || m[1] === kind);
}

/** Any interrupted write's leftover name (for tests and listings). */
export const LEFTOVER_PATTERN = new RegExp(`\\.sts-(tmp|new|old)-[0-9a-f]{${SUFFIX_DIGITS}}$`);

/**
 * Creates the folder `path` and any missing parents, one level at a time (Node's recursive mkdir never returns for
 * some impossible paths, e.g. under /proc), and checks that files can be written in it; errors name `what` (the
 * option it came from) and say what to do. Commands call it before any work, so a bad --out fails at once.
 */
export async function ensureWritableFolder(path: string, what = '--out'): Promise<void> {
  const fail = (problem: string): never => {
    throw new ArgumentError(what, `${path}: ${problem}; give a folder you can write to`);
  };
  try {
    await ensureFolder(path);
  } catch (error) {
    fail((error as Error).message.replace(/; choose an output folder you can write to$/, ''));
  }
  if (!(await stat(path)).isDirectory()) fail('is a file, not a folder');
  const probe = join(path, `.sts-write-test-${randomBytes(4).toString('hex')}`);
  await writeFile(probe, '').catch((error: NodeJS.ErrnoException) => fail(`cannot write in it (${error.code ?? error.message})`));
  await rm(probe, { force: true });
}

/**
 * Runs `write(tmpDir)` and moves the folder to `dir`, replacing an existing one only once the new one is complete,
 * and only when the existing one was written by sts (it carries the marker): any other folder there is refused by
 * name, untouched.
 */
export async function writeFolderAtomically(dir: string, write: (tmpDir: string) => Promise<void>): Promise<void> {
  await ensureFolder(dirname(dir));
  await refuseForeign(dir);
  const suffix = randomBytes(SUFFIX_DIGITS / 2).toString('hex');
  const tmp = leftoverName(dir, 'tmp', suffix);
  const complete = leftoverName(dir, 'new', suffix);
  const old = leftoverName(dir, 'old', suffix);
  await mkdir(tmp).catch((error: NodeJS.ErrnoException) => {
    throw storageError(error, dir) ?? error;
  });
  try {
    // The marker first: a temporary folder that a crash leaves behind is recognisable as ours.
    await adoptFolder(tmp);
    await write(tmp);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw storageError(error as NodeJS.ErrnoException, dir) ?? error;
  }
  await rename(tmp, complete);
  await testPause('before-place', dir);
  // Checked again just before the rename: something else may have appeared at `dir` while we wrote.
  await refuseForeign(dir).catch(async (error) => {
    await rm(complete, { recursive: true, force: true });
    throw error;
  });
  const replacing = await exists(dir);
  if (replacing) await rename(dir, old);
  if (replacing) await testPause('between-renames', dir);
  await rename(complete, dir);
  if (replacing) await rm(old, { recursive: true, force: true });
}

async function refuseForeign(dir: string): Promise<void> {
  const s = await stat(dir).catch(() => undefined);
  if (!s) return;
  if (!s.isDirectory()) throw new StsError(`${dir} exists and is not a folder: sts does not replace it; move it away or choose another output folder`);
  if (!(await isOurFolder(dir))) {
    throw new StsError(`${dir} exists and was not written by sts (it has no ${OUTPUT_MARKER} file): it is left as it is; move it away or choose another output folder`);
  }
}

/** `path` and its missing parents, created one level at a time (see `ensureWritableFolder`). */
async function ensureFolder(path: string): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(path); !(await exists(p)); p = dirname(p)) {
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const level of missing) {
    await mkdir(level).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw new StsError(`cannot create the folder ${level} (${error.code ?? error.message}); choose an output folder you can write to`);
    });
  }
}

/**
 * Brings `dir` to its last complete state after an interrupted `writeFolderAtomically`, and removes the leftovers:
 * returns what it did, for a log line (empty when there was nothing to do). Only folders that match the leftover
 * pattern exactly and carry the marker are touched (an empty temporary folder, from a crash before its marker, is
 * removed too: removing an empty folder loses nothing); `dir` itself is replaced only when it is ours.
 */
export async function recoverFolder(dir: string): Promise<string[]> {
  const parent = dirname(dir);
  const name = basename(dir);
  const entries = await readdir(parent).catch(() => [] as string[]);
  const ours = async (kind: LeftoverKind) => {
    const found: string[] = [];
    for (const e of entries.filter((e) => isLeftoverName(e, name, kind))) if (await isOurFolder(join(parent, e))) found.push(join(parent, e));
    return found;
  };
  const done: string[] = [];
  const dirExists = await exists(dir);
  const dirIsOurs = dirExists && (await isOurFolder(dir));
  if (dirExists && !dirIsOurs) return done; // a folder that is not ours: nothing beside it is ours to settle either
  // The newest complete version wins: a finished write that was not yet renamed into place.
  const [newest, ...olderNew] = await byTime(await ours('new'));
  if (newest) {
    if (dirExists) await rm(dir, { recursive: true, force: true });
    await rename(newest, dir);
    done.push(`completed the interrupted replacement of ${dir} (${basename(newest)})`);
  } else if (!dirExists) {
    const [previous] = await byTime(await ours('old'));
    if (previous) {
      await rename(previous, dir);
      done.push(`restored ${dir} from ${basename(previous)} (its replacement was interrupted before it was complete)`);
    }
  }
  for (const leftover of [...olderNew, ...(await ours('tmp')), ...(await ours('old'))]) {
    if (!(await exists(leftover))) continue;
    await rm(leftover, { recursive: true, force: true });
    done.push(`removed ${basename(leftover)} (an interrupted write)`);
  }
  for (const e of entries.filter((e) => isLeftoverName(e, name, 'tmp'))) {
    // rmdir removes only an empty folder: one a crash left between its creation and its marker.
    if (await rmdir(join(parent, e)).then(() => true, () => false)) done.push(`removed ${e} (an interrupted write, empty)`);
  }
  return done;
}

async function byTime(paths: string[]): Promise<string[]> {
  const times = await Promise.all(paths.map(async (p) => ({ p, t: (await stat(p)).mtimeMs })));
  return times.sort((a, b) => b.t - a.t).map((x) => x.p);
}

/**
 * For crash tests: with STS_TEST_PAUSE=<moment> (and STS_TEST_PAUSE_NAME=<folder name>, to pick one folder), the
 * process writes the folder's path to $STS_TEST_PAUSE_FILE and waits there forever, so that a test can kill it at
 * exactly that moment.
 */
async function testPause(moment: string, dir: string): Promise<void> {
  if (process.env.STS_TEST_PAUSE !== moment || !process.env.STS_TEST_PAUSE_FILE) return;
  if (process.env.STS_TEST_PAUSE_NAME && process.env.STS_TEST_PAUSE_NAME !== basename(dir)) return;
  await writeFile(process.env.STS_TEST_PAUSE_FILE, dir);
  await new Promise(() => setInterval(() => {}, 1000));
}

/** Runs `write(tmpPath)` and renames the result to `path`; the temporary file is removed on failure. */
export async function writeAtomically(path: string, write: (tmpPath: string) => Promise<void>): Promise<void> {
  await ensureFolder(dirname(path));
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await write(tmp);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw storageError(error as NodeJS.ErrnoException, path) ?? error;
  }
}

/** What the file system said, for the errors a user can act on (a full disk, a read-only or forbidden folder). */
const STORAGE_PROBLEMS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'an input/output error of the device',
};

/**
 * A file-system failure while writing `target` as an error naming it and saying that nothing half-written was left
 * (the temporary copy is removed; the previous complete version, if any, stays), or undefined for other errors.
 */
function storageError(error: NodeJS.ErrnoException, target: string): StsError | undefined {
  const problem = error?.code ? STORAGE_PROBLEMS[error.code] : undefined;
  if (!problem) return undefined;
  return new StsError(`cannot write ${target} (${error.code}: ${problem}); nothing half-written was left and the previous complete version, if any, is kept. Free space or choose another output folder, then run again (sts train: with --resume)`);
}
