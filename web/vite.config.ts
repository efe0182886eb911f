/**
 * The browser app. `base: './'` makes every URL in the build relative, so web/dist can be served from any folder
 * of any static host. The app imports the library's platform-free core (`segment-then-segment/core`, aliased to
 * ../src/core.ts: one source, no copy, no deep paths).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The library's platform-free entry, from source: the page imports it as a user's app would, by package name.
  resolve: { alias: { 'segment-then-segment/core': fileURLToPath(new URL('../src/core.ts', import.meta.url)) } },
  base: './',
  // The dev server must read ../src, outside this root.
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // tfjs is one large chunk by nature; warning about it says nothing new.
    chunkSizeWarningLimit: 4096,
    // Plugin timing reports are noise in CI logs; the build takes seconds.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});
