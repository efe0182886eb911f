/**
 * The browser app. `base: './'` makes every URL in the build relative, so web/dist can be served from any folder
 * of any static host. The app imports the library's platform-free core (`segment-then-segment/core`, aliased to
 * ../src/core.ts: one source, no copy, no deep paths).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Plugin, defineConfig } from 'vite';

/**
 * Cross-origin isolation: with these two headers the page has SharedArrayBuffer, which multi-threaded wasm needs
 * (TensorFlow.js's threaded SIMD binary, onnxruntime-web's threads). Every resource the app loads is its own
 * (same origin), so `require-corp` blocks nothing. Sent by the dev server and `vite preview` (which the e2e tests
 * and the benchmarks serve the build with); a static host must send them too: docs/web-hosting.md.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

/**
 * tfjs-backend-wasm starts its threads (emscripten's pthread workers) from a Blob holding its threaded module's
 * factory as `factory.toString()`. Minified in the bundle, that function refers to variables renamed outside it,
 * and every thread dies with "e is not defined"; so the threads get the module's original file as it ships. The
 * build fails here, rather than the page at run time, if a tfjs release changes that code.
 */
function tfjsWasmThreads(): Plugin {
  const threaded = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const factorySource = /`var WasmBackendModuleThreadedSimd = ` \+\s*wasmFactoryThreadedSimd\.toString\(\)/;
  return {
    name: 'sts-tfjs-wasm-threads',
    transform(code, id) {
      if (!/tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/.test(id)) return null;
      if (!factorySource.test(code)) this.error(`${id} no longer builds its threads' script from factory.toString(); update tfjsWasmThreads in web/vite.config.ts`);
      return { code: code.replace(factorySource, JSON.stringify(readFileSync(threaded, 'utf8'))), map: null };
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The library's platform-free entry, from source: the page imports it as a user's app would, by package name.
  resolve: { alias: { 'segment-then-segment/core': fileURLToPath(new URL('../src/core.ts', import.meta.url)) } },
  base: './',
  // The dev server must read ../src, outside this root.
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] }, headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  // TensorFlow.js runs in the segmentation worker, which Vite bundles with these plugins (not the page's).
  worker: { format: 'es', plugins: () => [tfjsWasmThreads()] },
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
