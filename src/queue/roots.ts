/**
 * A worker's roots: the folders it reads images (--inputs) and model folders (--models) from and writes results
 * (--out) under. A job is data anyone who can write to Redis may have written, so every path it names is taken
 * apart here before anything is read: made real (symlinks followed, `..` gone) and checked against the roots, and a
 * job that names anything outside them is refused by name. Catalog pairs, named by name, are always allowed.
 *
 * What this guards against is the job, not the worker's own file system: someone who can change the folders under
 * the roots (plant a symlink after the check) can already change what the worker reads.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ArgumentError, StsError } from '../errors.js';
import { ensureWritableFolder } from '../io/atomic-write.js';
import type { PredictJob } from './job.js';

/** A root folder: as given (made absolute) and its real path. */
export interface Root {
  readonly path: string;
  readonly real: string;
}

export interface WorkerRoots {
  /** The folders images are read from. */
  readonly inputs: readonly Root[];
  /** The folders model folders and .onnx files are read from (none: catalog pairs only). */
  readonly models: readonly Root[];
  /** The folders results are written under. */
  readonly out: readonly Root[];
}

export interface RootOptions {
  readonly inputs?: readonly string[];
  readonly models?: readonly string[];
  readonly out?: readonly string[];
}

/** A job this worker will not run; never retried (the same job names the same paths next time). */
export class JobRefused extends StsError {
  override name = 'JobRefused';
}

const ROOTS_HELP =
  'a worker reads and writes only under folders you name: give --inputs <dir> (where the images are), --out <dir> (where results go) and, ' +
  'for jobs that name model folders rather than catalog pairs, --models <dir>; each may be given more than once';

/**
 * The roots as real paths. --inputs and --out are required: a worker without them would read and write whatever a
 * job names, and no default (the working directory, the home folder) is safe to open to anyone who can reach Redis.
 */
export async function resolveRoots(o: RootOptions): Promise<WorkerRoots> {
  if (!o.inputs?.length) throw new ArgumentError('--inputs', `is missing: ${ROOTS_HELP}`);
  if (!o.out?.length) throw new ArgumentError('--out', `is missing: ${ROOTS_HELP}`);
  const real = async (flag: string, dirs: readonly string[]) =>
    Promise.all(
      dirs.map(async (dir) => {
        const path = await realpath(dir).catch(() => {
          throw new ArgumentError(flag, `${dir}: no such folder; give an existing folder (${ROOTS_HELP})`);
        });
        if (!(await stat(path)).isDirectory()) throw new ArgumentError(flag, `${dir} is a file, not a folder`);
        return { path: resolve(dir), real: path };
      }),
    );
  return { inputs: await real('--inputs', o.inputs), models: await real('--models', o.models ?? []), out: await real('--out', o.out) };
}

/** Whether the real path `path` is `root` or lies below it. */
export function isUnder(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

const underAny = (real: string, roots: readonly Root[]) => roots.some((root) => isUnder(real, root.real));

function outside(path: string, real: string | undefined, what: string, flag: string, roots: readonly Root[]): JobRefused {
  const really = real === undefined || real === path ? '' : ` (really ${real})`;
  return new JobRefused(
    `the job's ${what} ${path}${really} is outside this worker's ${flag} (${roots.map((r) => r.path).join(', ') || 'none given'}); refused, nothing was read or written. ` +
      `Add the job with paths under them, or start the worker with ${flag} covering it`,
  );
}

/**
 * The real path of the file or folder `path` that a job names, when it is under `roots`, or a refusal naming it. A
 * path that does not resolve is called missing only when it lies under a root as written: a job cannot learn
 * which files exist elsewhere on the worker.
 */
async function confined(path: string, what: string, flag: string, roots: readonly Root[]): Promise<string> {
  if (!isAbsolute(path)) {
    throw new JobRefused(`the job's ${what} '${path}' is not an absolute path (sts queue add stores absolute paths); add the job again with this sts version`);
  }
  const real = await realpath(path).catch((error: NodeJS.ErrnoException) => {
    if (!roots.some((root) => isUnder(resolve(path), root.path) || isUnder(resolve(path), root.real))) throw outside(path, undefined, what, flag, roots);
    throw new JobRefused(`${path}: the job's ${what} ${error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.code ?? error.message})`} on this worker; check that the workers see the same files as sts queue add did`);
  });
  if (!underAny(real, roots)) throw outside(path, real, what, flag, roots);
  return real;
}

/**
 * A model named by path: the folder (and every file in it: a model.json or weights file may be a symlink) or the
 * .onnx file and its sidecar <file>.json must be under --models.
 */
async function confineModel(path: string, which: 'rough' | 'fine', roots: readonly Root[]): Promise<void> {
  const what = `${which} model`;
  if (roots.length === 0) {
    throw new JobRefused(`the job's ${what} is the path ${path}, but this worker takes catalog pairs only; start it with --models <dir> covering that folder, or add the job with --model <name>`);
  }
  const real = await confined(path, what, '--models', roots);
  const files = (await stat(real)).isDirectory() ? (await readdir(real)).map((name) => join(real, name)) : [join(dirname(real), `${basename(real)}.json`)];
  for (const file of files) {
    const realFile = await realpath(file).catch(() => undefined);
    if (realFile !== undefined && !underAny(realFile, roots)) throw outside(file, realFile, `${what}'s file`, '--models', roots);
  }
}

/**
 * Checks every path `job` names against `roots`, or throws JobRefused naming the first outside them; creates the
 * job's output folder when missing (after checking that the nearest folder that exists is under --out).
 */
export async function confineJob(job: PredictJob, roots: WorkerRoots): Promise<void> {
  await confined(job.image, 'image', '--inputs', roots.inputs);
  if (typeof job.model !== 'string') {
    await confineModel(job.model.rough, 'rough', roots.models);
    await confineModel(job.model.fine, 'fine', roots.models);
  }
  if (!isAbsolute(job.out)) {
    throw new JobRefused(`the job's output folder '${job.out}' is not an absolute path (sts queue add stores absolute paths); add the job again with this sts version`);
  }
  // The folders that do not exist yet cannot be symlinks: the real path of the nearest existing one decides.
  let existing = resolve(job.out);
  while (!(await stat(existing).then(() => true, () => false)) && dirname(existing) !== existing) existing = dirname(existing);
  const real = join(await realpath(existing), relative(existing, resolve(job.out)));
  if (!underAny(real, roots.out)) throw outside(job.out, real, 'output folder', '--out', roots.out);
  await ensureWritableFolder(job.out, `the job's output folder`).catch((error: Error) => {
    throw new JobRefused(error.message);
  });
}
