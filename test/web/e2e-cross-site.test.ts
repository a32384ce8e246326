import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Daemon, startDaemon } from '../../src/server/daemon.js';
import { testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { chromiumAvailable, launchBrowser } from './e2e-support.js';

interface Sensor {
  name: string;
  enabled: boolean;
}

/**
 * A page on another origin (another port on 127.0.0.1: the same site, a different origin) tries
 * to switch a sensor on through the daemon's API, with fetch and with a plain form POST. The
 * sensor must stay off; the daemon's own page can still switch it.
 */
describe.skipIf(!chromiumAvailable())('cross-site requests in Chromium', () => {
  let daemon: Daemon;
  let evil: Server;
  let evilUrl: string;
  let browser: Browser;
  let sensor: string;

  const sensors = async () =>
    ((await (await daemon.app.request('/api/sensors')).json()) as { sensors: Sensor[] }).sensors;

  beforeAll(async () => {
    const pipeline = await testPipeline('cross-site');
    const webRoot = await tmpDir('cross-site-web');
    await mkdir(webRoot, { recursive: true });
    await writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>billing-pipeline</title>');
    const config = loadConfig(pipeline.env, {
      source: pipeline.source,
      home: path.join(pipeline.home, 'state'),
    });
    daemon = await startDaemon({ config, mode: 'serve', host: '127.0.0.1', port: 0, log: () => {}, webRoot });
    const first = (await sensors())[0];
    if (!first) throw new Error('the daemon has no sensor');
    sensor = first.name;
    expect(first.enabled).toBe(false);
    const target = `${daemon.info.url}/api/sensors/${encodeURIComponent(sensor)}/start`;
    const page = `<!doctype html><title>evil</title>
      <form id="f" method="POST" action="${target}" target="sink"><input name="x" value="1"></form>
      <iframe name="sink"></iframe>
      <script>
        window.attempts = Promise.allSettled([
          fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors' }),
          fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' }),
          fetch(${JSON.stringify(target)}, { method: 'POST', credentials: 'include' }),
        ]).then(() => { document.getElementById('f').submit(); return 'sent'; });
      </script>`;
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => evil?.close(resolve));
    await daemon?.stop();
  });

  it('refuses a page on another origin and accepts the daemon’s own page', async () => {
    const page = await browser.newPage();
    const refused: number[] = [];
    page.on('response', (res) => {
      if (res.url().includes('/api/sensors/')) refused.push(res.status());
    });
    // The form's navigation lands in the iframe; waited for from before the page loads, so a fast
    // answer is not missed.
    const formAnswered = page.waitForEvent('response', {
      predicate: (r) => r.request().method() === 'POST' && r.request().resourceType() === 'document',
    });
    await page.goto(evilUrl);
    expect(await page.evaluate('window.attempts')).toBe('sent');
    await formAnswered;
    expect(refused.length).toBeGreaterThan(0);
    for (const status of refused) expect(status).toBe(403);
    expect((await sensors()).find((s) => s.name === sensor)?.enabled).toBe(false);

    const own = await browser.newPage();
    await own.goto(`${daemon.info.url}/`);
    const status = await own.evaluate(
      async (url) => (await fetch(url, { method: 'POST' })).status,
      `/api/sensors/${encodeURIComponent(sensor)}/start`,
    );
    expect(status).toBe(200);
    expect((await sensors()).find((s) => s.name === sensor)?.enabled).toBe(true);
  }, 60_000);
});
