import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { type Browser, chromium, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import type { Runtime } from '../../src/runtime.js';
import { createApp } from '../../src/server/app.js';
import type { RunLauncher } from '../../src/server/app-deps.js';
import { type Daemon, startDaemon } from '../../src/server/daemon.js';
import type { TestPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { repoRoot } from './support.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Debian's chromium (installed by .ci/run). Without it the browser tests cannot run; in CI that is an error. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true')
    throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get install chromium`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Builds the UI from source into a fresh folder, so the test never runs against a stale web/dist. */
export async function buildWebUi(): Promise<string> {
  const outDir = path.join(await tmpDir('web-dist'), 'dist');
  const { build } = await import('vite');
  await build({
    configFile: path.join(repoRoot, 'web/vite.config.ts'),
    build: { outDir, emptyOutDir: true },
    logLevel: 'warn',
  });
  return outDir;
}

export interface TestServer {
  url: string;
  stop(): Promise<void>;
}

/** The app on 127.0.0.1 with a random port, in this process. */
export async function serveApp(
  runtime: Runtime,
  launcher: RunLauncher,
  webRoot: string,
): Promise<TestServer> {
  const app = createApp({ runtime, launcher, webRoot });
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        stop: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/**
 * Saves a screenshot. With UPDATE_SCREENSHOTS=1 it goes to docs/screenshots (for the README);
 * otherwise to a temp folder, so an ordinary test run never changes tracked files.
 */
export async function screenshot(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<string> {
  const dir =
    process.env.UPDATE_SCREENSHOTS === '1'
      ? path.join(repoRoot, 'docs/screenshots')
      : await tmpDir('screens');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? false });
  return file;
}

export async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  await page.emulateMedia({ colorScheme: theme });
  await page.evaluate(`localStorage.setItem('billing-theme', '${theme}')`);
  await page.reload();
}

/**
 * A real daemon (`serve`, port 0) over a test pipeline's warehouse and source, serving the built
 * UI: what the browser tests that need the daemon's own routes and guards talk to.
 */
export async function serveTestPipeline(pipeline: TestPipeline): Promise<Daemon> {
  const config = loadConfig(
    { ...pipeline.env, BILLING_DUCKDB_THREADS: '2' },
    { source: pipeline.source, home: path.join(pipeline.home, 'state') },
  );
  return startDaemon({
    config,
    mode: 'serve',
    host: '127.0.0.1',
    port: 0,
    webRoot: await buildWebUi(),
    log: () => {},
  });
}
