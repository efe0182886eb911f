/**
 * Output folders that are either complete or absent: written under a temporary name beside the target and renamed
 * into place, so an interrupted write (Ctrl-C, a crash, a full disk) never leaves a folder that looks finished.
 * Model checkpoints, prediction results and generated datasets all go through here.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Runs `write(tmpDir)` and moves the folder to `dir`, replacing an existing one only once the new one is complete. */
export async function writeFolderAtomically(dir: string, write: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  const tmp = `${dir}.tmp-${suffix}`;
  const old = `${dir}.old-${suffix}`;
  await mkdir(tmp);
  try {
    await write(tmp);
    const exists = await stat(dir).then(() => true, () => false);
    if (exists) await rename(dir, old);
    await rename(tmp, dir);
    if (exists) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}
