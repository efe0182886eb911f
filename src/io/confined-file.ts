/**
 * Files that another file names (a model.json's weights, an ONNX model's external data), taken only from inside
 * the folder of the file that names them and read with a bound. A name is checked before anything is opened, so a
 * path that leaves the folder (`../../etc/passwd`, an absolute path, a link to a file elsewhere) is refused without
 * reading or measuring its target; what is read must be a regular file (not `/dev/zero`, a FIFO or a folder) of at
 * most the size the naming file implies, so a crafted name can neither disclose a file nor exhaust memory.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { StsError } from '../errors.js';

/** Whether `path` lies strictly inside `folder` (both absolute and normalised). */
const inside = (folder: string, path: string) => {
  const rel = relative(folder, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
};

export interface ConfinedName {
  /** The file that names the other one (model.json, the .onnx file), for messages. */
  readonly namedBy: string;
  /** What the named file is ('weights file', 'external data file'), for messages. */
  readonly what: string;
  /** What the user can do, appended to every refusal. */
  readonly remedy: string;
}

/**
 * The real path of `name` (as `namedBy` writes it) inside `folder`: refused by name when it is absolute or climbs
 * out of the folder (no file is touched then), or when it resolves through a link to somewhere outside; a missing
 * file is named as missing.
 */
export async function confinedPath(folder: string, name: unknown, o: ConfinedName): Promise<string> {
  const refuse = (problem: string) => new StsError(`${o.namedBy}: ${problem}; ${o.remedy}`);
  if (typeof name !== 'string' || name === '' || name.includes('\0')) throw refuse(`names its ${o.what} as ${JSON.stringify(name)}, not a file name`);
  const root = resolve(folder);
  if (isAbsolute(name) || !inside(root, resolve(root, name))) {
    throw refuse(`names its ${o.what} '${name}', outside its folder ${folder} (files named by a model are read only from the model's own folder)`);
  }
  const lexical = resolve(root, name);
  let real: string;
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(lexical);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new StsError(`${lexical}: missing ${o.what} (${code}), named by ${o.namedBy}; ${o.remedy}`);
  }
  if (!inside(realRoot, real)) {
    throw refuse(`its ${o.what} '${name}' is a link to a file outside its folder ${folder} (files named by a model are read only from the model's own folder)`);
  }
  return real;
}

/** Opens `path` without blocking on a FIFO or device, and refuses anything but a regular file. */
async function openRegular(path: string, what: string, remedy: string) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; regular files ignore it.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
    throw new StsError(`${path}: cannot read the ${what} (${error.code ?? error.message}); ${remedy}`);
  });
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    const kind = stats.isDirectory() ? 'a folder' : stats.isFIFO() ? 'a FIFO' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : 'not a regular file';
    throw new StsError(`${path}: the ${what} is ${kind}, not a regular file; ${remedy}`);
  }
  return { handle, size: stats.size };
}

/** The size of the regular file at `path` (anything else refused by name), without reading it. */
export async function regularFileSize(path: string, what: string, remedy: string): Promise<number> {
  const { handle, size } = await openRegular(path, what, remedy);
  await handle.close();
  return size;
}

/**
 * The whole of the regular file at `path`, refused by name unless it is one and holds at most `maxBytes` (checked
 * before reading; a file that grows while read is refused too).
 */
export async function readRegularFile(path: string, maxBytes: number, what: string, remedy: string): Promise<Buffer> {
  const { handle, size } = await openRegular(path, what, remedy);
  try {
    const tooLarge = () => new StsError(`${path}: the ${what} holds more than ${maxBytes.toLocaleString('en-US')} bytes, more than it can be; ${remedy}`);
    if (size > maxBytes) throw tooLarge();
    const buffer = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(buffer, filled, size - filled, filled);
      if (bytesRead === 0) throw new StsError(`${path}: the ${what} shrank while it was read; ${remedy}`);
      filled += bytesRead;
    }
    if ((await handle.read(Buffer.alloc(1), 0, 1, size)).bytesRead !== 0) throw new StsError(`${path}: the ${what} grew while it was read; ${remedy}`);
    return buffer;
  } finally {
    await handle.close();
  }
}
