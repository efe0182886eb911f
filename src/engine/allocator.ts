/**
 * The memory allocator the `sts` process runs on. glibc's malloc keeps much of what libvips's and libtorch's worker
 * threads free in per-thread arenas, so the process grows: writing a 40,000 x 40,000 mask (libvips) peaked at
 * 947 MB RSS under it and at 461 MB under jemalloc (sharp's documentation recommends jemalloc on glibc Linux for
 * the same reason). So the CLI runs itself with jemalloc preloaded when the library is installed (Debian:
 * libjemalloc2); STS_ALLOCATOR=system opts out.
 */
import { existsSync, readFileSync } from 'node:fs';

const CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
];

/** The installed jemalloc library, if any. */
export function jemallocLibrary(exists: (path: string) => boolean = existsSync): string | undefined {
  return CANDIDATES.find((p) => exists(p));
}

/** Whether this process was started with jemalloc preloaded. */
export function usingJemalloc(env: NodeJS.ProcessEnv = process.env): boolean {
  return /jemalloc/.test(env.LD_PRELOAD ?? '');
}

/**
 * The environment to rerun the process in with jemalloc preloaded, or undefined when that is not wanted or not
 * possible: not Linux, opted out, already preloaded, or not installed.
 */
export function jemallocEnv(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  exists: (path: string) => boolean = existsSync,
): NodeJS.ProcessEnv | undefined {
  if (platform !== 'linux' || env.STS_ALLOCATOR === 'system' || usingJemalloc(env)) return undefined;
  const lib = jemallocLibrary(exists);
  if (!lib) return undefined;
  return { ...env, LD_PRELOAD: env.LD_PRELOAD ? `${lib}:${env.LD_PRELOAD}` : lib };
}

/** The allocator this process actually runs on (Linux: from its memory map). */
export function mallocInUse(): 'jemalloc' | 'system' {
  try {
    return readFileSync('/proc/self/maps', 'utf8').includes('libjemalloc') ? 'jemalloc' : 'system';
  } catch {
    return usingJemalloc() ? 'jemalloc' : 'system';
  }
}
