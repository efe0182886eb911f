/**
 * The built web app (web/dist) served by Vite's preview server and driven by Debian's Chromium through
 * playwright-core, headless, with no browser download. Shared by the end-to-end tests and bench/web.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type PreviewServer, preview } from 'vite';
import { packageRoot } from '../../src/paths.js';

/** The page's globals that callbacks run in the browser use; Node's type library has no DOM. */
declare const document: { getElementById(id: string): { dataset: Record<string, string | undefined> } | null };

export const CHROMIUM = process.env.STS_CHROMIUM ?? '/usr/bin/chromium';
export const webRoot = join(packageRoot, 'web');
export const webDist = join(webRoot, 'dist');

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserTestsUnavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}: install it (apt-get install chromium; ./run test does) or set STS_CHROMIUM`;
  if (!existsSync(join(webDist, 'index.html'))) return `web/dist is not built: run 'npm run build:web' first`;
  return undefined;
}

export interface WebSession {
  readonly url: string;
  readonly browser: Browser;
  newPage(query?: string): Promise<Page>;
  close(): Promise<void>;
}

export interface WebSessionOptions {
  /** The built app to serve (default web/dist): a benchmark may compare another build. */
  readonly dist?: string;
  /**
   * Serve it cross-origin isolated, with the COOP/COEP headers of web/vite.config.ts (default true); false serves
   * it as a static host without those headers does (`unsafe-none`), as builds before them were served.
   */
  readonly isolated?: boolean;
  /**
   * Give the browser a WebGPU adapter: without --disable-gpu and with --enable-unsafe-webgpu, Debian's headless
   * Chromium offers SwiftShader's (a CPU "fallback adapter", which the page's `auto` passes over but
   * `?backend=webgpu` takes). Default false: no GPU, as on a bare CI machine.
   */
  readonly webgpu?: boolean;
}

export async function startWebSession({ dist = webDist, isolated = true, webgpu = false }: WebSessionOptions = {}): Promise<WebSession> {
  const server: PreviewServer = await preview({
    root: webRoot,
    configFile: join(webRoot, 'vite.config.ts'),
    logLevel: 'silent',
    build: { outDir: dist },
    preview: {
      port: 0, host: '127.0.0.1', strictPort: false, open: false,
      ...(isolated ? {} : { headers: { 'Cross-Origin-Opener-Policy': 'unsafe-none', 'Cross-Origin-Embedder-Policy': 'unsafe-none' } }),
    },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('the preview server gave no URL');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No GPU, sandbox or network chatter: the page must work on a bare CI machine.
    args: ['--headless', '--no-sandbox', ...(webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu']), '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    url,
    browser,
    async newPage(query = '') {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
      await page.goto(`${url}${query}`);
      return page;
    },
    async close() {
      await browser.close();
      await new Promise<void>((resolve, reject) => server.httpServer.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

/** Waits until the page's status element says `key` is `value`, failing early (with the page's message) on `error`. */
export async function waitForState(page: Page, key: 'image' | 'models' | 'run', value: string, timeout = 120_000): Promise<void> {
  await page.waitForFunction(
    ([k, v]) => {
      const state = document.getElementById('status')?.dataset[k];
      return state === v || (state === 'error' && v !== 'error');
    },
    [key, value] as const,
    { timeout },
  );
  const state = await page.locator('#status').getAttribute(`data-${key}`);
  if (state !== value) throw new Error(`page ${key} state is ${state}, not ${value}: ${await page.locator('#message').textContent()}`);
}

/** The TensorFlow.js backend the page's worker started. */
export async function pageBackend(page: Page, timeout = 60_000): Promise<string> {
  const handle = await page.waitForFunction(() => document.getElementById('status')?.dataset.backend, undefined, { timeout });
  return (await handle.jsonValue()) as string;
}

/** The engine the page's worker started, as its status element reports it once started. */
export async function pageEngine(page: Page, timeout = 60_000): Promise<{ backend: string; isolated: boolean; threads: number; line: string }> {
  const backend = await pageBackend(page, timeout);
  const status = page.locator('#status');
  return {
    backend,
    isolated: (await status.getAttribute('data-isolated')) === 'true',
    threads: Number((await status.getAttribute('data-threads')) || 0),
    line: (await page.locator('#backend-info').textContent()) ?? '',
  };
}

/** The files of a model folder of `sts train`, as a user picks them. */
export const modelFolderFiles = (folder: string) => [join(folder, 'model.json'), join(folder, 'weights.bin')];

/**
 * Loads a pair through the page's own-model pickers (after the bundled pair the page starts with): each network's
 * files, a model folder's (modelFolderFiles) or an .onnx file with or without its sidecar. Returns once the page has
 * the pair, or with the page's message when `expect` is 'error'.
 */
export async function loadOwnModels(page: Page, rough: string[], fine: string[], expect: 'ready' | 'error' = 'ready'): Promise<void> {
  await waitForState(page, 'models', 'ready');
  await page.selectOption('#pair', 'own');
  await page.setInputFiles('#rough-files', rough);
  await page.setInputFiles('#fine-files', fine);
  await page.click('#load-own');
  await waitForState(page, 'models', expect);
}
