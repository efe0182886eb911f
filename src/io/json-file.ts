/** Reading the project's own JSON files (run state, configs, splits, saved evaluations) with errors that name them. */
import { readFile } from 'node:fs/promises';
import { StsError } from '../errors.js';
import { readRegularFile } from './confined-file.js';

/**
 * Parses the JSON file at `path`. A missing, unreadable or damaged file becomes an StsError naming the file, what
 * went wrong and `remedy` (what the user can do about it), instead of a bare parser error. With `maxBytes` (files
 * a stranger may hand over: a model's model.json), only a regular file of at most that size is read.
 */
export async function readJsonFile<T>(path: string, remedy: string, { maxBytes }: { maxBytes?: number } = {}): Promise<T> {
  let text: string;
  try {
    text = maxBytes === undefined ? await readFile(path, 'utf8') : (await readRegularFile(path, maxBytes, 'JSON file', remedy)).toString('utf8');
  } catch (error) {
    if (error instanceof StsError) throw error;
    throw new StsError(`${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ${remedy}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new StsError(`${path}: damaged JSON (${(error as Error).message}); ${remedy}`);
  }
}
