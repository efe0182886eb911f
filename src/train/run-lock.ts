/**
 * One trainer per run folder: `sts train` holds `<run>/lock.json` (its PID) while it runs, so that a second trainer
 * on the same folder (a `--resume` while an orphaned or forgotten one still trains) is refused instead of writing
 * the same checkpoints and log lines. A lock whose process is gone (SIGKILL, a lost machine) is taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StsError } from '../errors.js';

export const LOCK_FILE = 'lock.json';

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the run folder's lock, or throws naming the process that holds it; returns the release function. */
export async function lockRunFolder(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(JSON.stringify(mine));
      await file.close();
      return async () => {
        const held = await readLock(path);
        if (held?.pid === process.pid) await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = await readLock(path);
    if (held && held.pid !== process.pid && held.host === mine.host && alive(held.pid)) {
      throw new StsError(
        `${dir} is being trained by another process (PID ${held.pid}, since ${held.started}); wait for it to finish, or stop it (kill ${held.pid}) and rerun with --resume`,
      );
    }
    if (held && held.host !== mine.host) {
      throw new StsError(`${dir} is locked by PID ${held.pid} on ${held.host}; if nothing trains there any more, delete ${path} and rerun`);
    }
    // The holder is gone: take the lock over.
    await rm(path, { force: true });
  }
  throw new StsError(`${path}: could not take the run folder's lock; another trainer keeps starting on it`);
}

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    return Number.isInteger(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}
