/**
 * Output files and folders that are either complete or absent: written under a temporary name beside the target and renamed
 * into place, so an interrupted write (Ctrl-C, a crash, SIGKILL, a full disk) never leaves a folder that looks
 * finished. Model checkpoints, prediction results and generated datasets all go through here.
 *
 * The steps, each a rename or a removal: write `<dir>.tmp-X`; when it is complete, rename it `<dir>.new-X`; move
 * an existing `<dir>` aside to `<dir>.old-X`; rename `<dir>.new-X` to `<dir>`; remove `<dir>.old-X`. Whatever
 * step a crash stops at, `recoverFolder` finds the last complete state: a `.tmp-` folder is unfinished and goes, a
 * `.new-` one is complete and is promoted, an `.old-` one is restored when nothing newer is complete.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ArgumentError, StsError } from '../errors.js';

const exists = (path: string) => stat(path).then(() => true, () => false);

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

/** Runs `write(tmpDir)` and moves the folder to `dir`, replacing an existing one only once the new one is complete. */
export async function writeFolderAtomically(dir: string, write: (tmpDir: string) => Promise<void>): Promise<void> {
  await ensureFolder(dirname(dir));
  const suffix = randomBytes(4).toString('hex');
  const tmp = `${dir}.tmp-${suffix}`;
  const complete = `${dir}.new-${suffix}`;
  const old = `${dir}.old-${suffix}`;
  await mkdir(tmp).catch((error: NodeJS.ErrnoException) => {
    throw storageError(error, dir) ?? error;
  });
  try {
    await write(tmp);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw storageError(error as NodeJS.ErrnoException, dir) ?? error;
  }
  await rename(tmp, complete);
  await testPause('before-place', dir);
  const replacing = await exists(dir);
  if (replacing) await rename(dir, old);
  if (replacing) await testPause('between-renames', dir);
  await rename(complete, dir);
  if (replacing) await rm(old, { recursive: true, force: true });
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
 * returns what it did, for a log line (empty when there was nothing to do).
 */
export async function recoverFolder(dir: string): Promise<string[]> {
  const parent = dirname(dir);
  const name = basename(dir);
  const entries = await readdir(parent).catch(() => [] as string[]);
  const of = (kind: string) => entries.filter((e) => e.startsWith(`${name}.${kind}-`)).map((e) => join(parent, e));
  const done: string[] = [];
  // The newest complete version wins: a finished write that was not yet renamed into place.
  const [newest, ...olderNew] = await byTime(of('new'));
  if (newest) {
    if (await exists(dir)) await rm(dir, { recursive: true, force: true });
    await rename(newest, dir);
    done.push(`completed the interrupted replacement of ${dir} (${basename(newest)})`);
  } else if (!(await exists(dir))) {
    const [previous] = await byTime(of('old'));
    if (previous) {
      await rename(previous, dir);
      done.push(`restored ${dir} from ${basename(previous)} (its replacement was interrupted before it was complete)`);
    }
  }
  for (const leftover of [...olderNew, ...of('tmp'), ...of('old')]) {
    if (!(await exists(leftover))) continue;
    await rm(leftover, { recursive: true, force: true });
    done.push(`removed ${basename(leftover)} (an interrupted write)`);
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
