/** Folder listing shared by the layouts: sorted, hidden files skipped, errors naming the folder. */
import { readdir } from 'node:fs/promises';
import { extname } from 'node:path';
import { StsError } from '../../errors.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp'];

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

/** The name without its last extension: what images and masks are matched by. */
export function stem(name: string): string {
  const ext = extname(name);
  return ext ? name.slice(0, -ext.length) : name;
}

export async function listDir(dir: string, what: 'files' | 'dirs'): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new StsError(`${dir}: cannot list this folder (${(error as Error).message}); check the dataset path`);
  }
  return entries
    .filter((e) => !e.name.startsWith('.') && (what === 'dirs' ? e.isDirectory() : e.isFile()))
    .map((e) => e.name)
    .sort();
}

export async function isDir(path: string): Promise<boolean> {
  try {
    await readdir(path);
    return true;
  } catch {
    return false;
  }
}
