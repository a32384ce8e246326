import '../quiet-sdk-warning.js';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateFxRates, writeFxFile } from '../billing/fx/fx-generator.js';
import { generate } from '../billing/generate/generator.js';
import { loadConfig } from '../config.js';
import { addDays } from '../orchestrator/days.js';
import { openRuntime } from '../runtime.js';
import { startDaemon } from '../server/daemon.js';
import { createSource } from '../sources/create-source.js';
import { DEMO_DAY_COUNT, demoDays } from './demo-days.js';
import { startLocalS3 } from './local-s3.js';

/**
 * `node dist/src/dev/screenshots.js [out-dir]`: the README's and docs/web-ui.md's screenshots,
 * made from the current UI build on the demo's data, never by hand. It seeds a fresh local S3 the
 * way `npm start` does (src/dev/demo.ts: same generator, seed, volume and FX rates), materializes,
 * serves the built UI (web/dist, or BILLING_WEB_ROOT) and drives Chromium through the pages.
 * Beside the PNGs it writes manifest.json naming the UI build (the entry script's fingerprinted
 * name, from the page itself), so a test can tell the images come from the current build.
 * SCREENSHOT_ROWS_PER_DAY shrinks the data (the test does); the docs use the demo's 5000.
 */

/** The demo's data set (src/dev/demo.ts): change both together. */
export const DEMO_DATA = {
  days: DEMO_DAY_COUNT,
  rowsPerDay: 5000,
  seed: 42,
  dirtyRate: 0.002,
  filesPerDay: 2,
};

export interface Shot {
  name: string;
  path: string;
  width: number;
  height: number;
  /** A locator that must be visible before the picture is taken. */
  ready: string;
  theme: 'light' | 'dark';
  fullPage?: boolean;
  /** Clicked once the page is ready (as a user would), then `shows` must be visible. */
  click?: string;
  shows?: string;
}

export const WIDTH = 1280;
export const HEIGHT = 800;

export function shots(): Shot[] {
  const base = { width: WIDTH, height: HEIGHT };
  const chart = '[data-chart="spend-volume"] .recharts-bar-rectangle';
  return [
    { ...base, name: 'insights', path: '/insights', ready: chart, theme: 'light' },
    { ...base, name: 'insights-light', path: '/insights', ready: chart, theme: 'light' },
    { ...base, name: 'insights-dark', path: '/insights', ready: chart, theme: 'dark' },
    {
      ...base,
      name: 'drill-down',
      path: '/insights',
      ready: chart,
      click: `${chart} >> nth=-4`,
      shows: '.drill table tbody tr',
      theme: 'light',
    },
    { ...base, name: 'assets-light', path: '/assets', ready: '.main svg', theme: 'light' },
    { ...base, name: 'assets-dark', path: '/assets', ready: '.main svg', theme: 'dark' },
    { ...base, name: 'runs-light', path: '/runs', ready: 'table tbody tr', theme: 'light' },
    { ...base, name: 'runs-dark', path: '/runs', ready: 'table tbody tr', theme: 'dark' },
    { ...base, name: 'data', path: '/data', ready: 'table tbody tr', theme: 'light' },
    { ...base, name: 'sql', path: '/sql', ready: '[aria-label="schema browser"] summary', theme: 'light' },
  ];
}

export interface Manifest {
  build: string;
  data: typeof DEMO_DATA & { from: string; to: string };
  images: { name: string; file: string; width: number; height: number }[];
}

export async function makeScreenshots(options: {
  outDir: string;
  webRoot: string;
  rowsPerDay?: number;
  chromium?: string;
  log?: (line: string) => void;
}): Promise<Manifest> {
  const log = options.log ?? (() => {});
  const work = await mkdtemp(join(tmpdir(), 'billing-shots-'));
  const s3 = await startLocalS3({ directory: join(work, 's3') });
  try {
    await s3.createBucket('billing');
    const sourceUri = 's3://billing/exports/';
    const fxUri = 's3://billing/fx/rates.csv';
    const env = { ...process.env, ...s3.env, BILLING_FX_SOURCE: fxUri, BILLING_HOME: join(work, 'home') };
    const { from, to } = demoDays();
    const data = { ...DEMO_DATA, rowsPerDay: options.rowsPerDay ?? DEMO_DATA.rowsPerDay, from, to };
    const sink = createSource(sourceUri, env);
    try {
      await generate({ ...data, tmpDir: await mkdtemp(join(work, 'gen-')) }, (key, path) =>
        sink.putFile(key, path),
      );
      await writeFxFile(fxUri, generateFxRates({ from: addDays(from, -7), to, seed: data.seed }), env);
    } finally {
      await sink.close();
    }
    const config = loadConfig(env, { source: sourceUri, home: join(work, 'home') });
    const runtime = await openRuntime(config);
    try {
      const summary = await runtime.materialize({ trigger: 'demo' });
      if (summary.status !== 'success') throw new Error(`materialize failed: ${summary.error}`);
    } finally {
      await runtime.close();
    }
    log(`seeded ${from} .. ${to} (${data.rowsPerDay} rows a day)`);
    const daemon = await startDaemon({
      config,
      mode: 'serve',
      host: '127.0.0.1',
      port: 0,
      webRoot: options.webRoot,
      log: () => {},
    });
    try {
      return await capture(daemon.info.url, options, data, log);
    } finally {
      await daemon.stop();
    }
  } finally {
    await s3.stop();
    await rm(work, { recursive: true, force: true });
  }
}

async function capture(
  url: string,
  options: { outDir: string; chromium?: string },
  data: Manifest['data'],
  log: (line: string) => void,
): Promise<Manifest> {
  // Loaded only here: playwright-core is a development dependency.
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: options.chromium ?? process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  await mkdir(options.outDir, { recursive: true });
  const images: Manifest['images'] = [];
  let build = '';
  try {
    for (const shot of shots()) {
      const context = await browser.newContext({
        viewport: { width: shot.width, height: shot.height },
        colorScheme: shot.theme,
      });
      await context.addInitScript(`localStorage.setItem('billing-theme', '${shot.theme}')`);
      const page = await context.newPage();
      await page.goto(`${url}${shot.path}`);
      await page.locator(shot.ready).first().waitFor({ timeout: 30_000 });
      // Let data that arrives after the first element (other cards) settle.
      await page.waitForLoadState('networkidle');
      if (shot.click) {
        await page.locator(shot.click).click();
        await page
          .locator(shot.shows ?? shot.ready)
          .first()
          .waitFor({ timeout: 30_000 });
        await page.waitForLoadState('networkidle');
      }
      const entry = (await page.evaluate(
        "document.querySelector('script[type=module][src]')?.getAttribute('src') ?? ''",
      )) as string;
      if (!entry) throw new Error('the page has no module script: is this the built UI?');
      if (build && build !== entry)
        throw new Error(`the build changed while shooting: ${build} then ${entry}`);
      build = entry;
      const file = join(options.outDir, `${shot.name}.png`);
      await page.screenshot({ path: file, fullPage: shot.fullPage ?? false });
      images.push({ name: shot.name, file: `${shot.name}.png`, width: shot.width, height: shot.height });
      log(`wrote ${file}`);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  const manifest: Manifest = { build, data, images };
  await writeFile(join(options.outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The entry script a built index.html loads (its fingerprinted name is the build's identity). */
export async function builtEntry(webRoot: string): Promise<string> {
  const html = await readFile(join(webRoot, 'index.html'), 'utf8');
  const match = /<script[^>]*type="module"[^>]*src="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error(`${webRoot}/index.html names no module script`);
  return match[1];
}

const invoked = process.argv[1] && resolve(process.argv[1]).endsWith(join('dev', 'screenshots.js'));
if (invoked) {
  const outDir = resolve(process.argv[2] ?? 'docs/screenshots');
  const webRoot = resolve(process.env.BILLING_WEB_ROOT ?? 'web/dist');
  makeScreenshots({
    outDir,
    webRoot,
    rowsPerDay: process.env.SCREENSHOT_ROWS_PER_DAY ? Number(process.env.SCREENSHOT_ROWS_PER_DAY) : undefined,
    log: (line) => process.stdout.write(`${line}\n`),
  })
    .then(async (m) => {
      const expected = await builtEntry(webRoot);
      if (m.build !== expected) throw new Error(`shot build ${m.build}, but ${webRoot} is ${expected}`);
      process.stdout.write(`${m.images.length} screenshots of build ${m.build} in ${outDir}\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
}
