import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/server/app.js';
import { startDaemon } from '../../src/server/daemon.js';
import { testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { type ApiHarness, apiHarness } from './support.js';

describe('API token', () => {
  let h: ApiHarness;
  let webRoot: string;
  beforeAll(async () => {
    webRoot = await tmpDir('token-web');
    await mkdir(webRoot, { recursive: true });
    await writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>billing-pipeline</title>');
    h = await apiHarness('api-token', { from: '2025-07-01', to: '2025-07-01', rowsPerDay: 20 });
  }, 120_000);
  afterAll(() => h?.close());

  it('refuses to bind beyond loopback without BILLING_API_TOKEN', async () => {
    const pipeline = await testPipeline('api-token-bind');
    const config = loadConfig(pipeline.env, { source: pipeline.source, home: pipeline.home });
    for (const host of ['0.0.0.0', '192.168.1.10', '::']) {
      await expect(startDaemon({ config, mode: 'dev', host, port: 0, log: () => {} })).rejects.toThrow(
        /BILLING_API_TOKEN/,
      );
    }
  });

  it('requires the bearer token on every API route but serves the UI shell, which asks for it', async () => {
    const app = createApp({ runtime: h.runtime, launcher: h.launcher, token: 's3cret', webRoot });
    for (const url of ['/api/assets', '/api/runs', '/api/openapi.json', '/api/nope']) {
      const denied = await app.request(url);
      expect(denied.status, url).toBe(401);
      expect(await denied.json()).toMatchObject({ error: { code: 'unauthorized' } });
      const wrong = await app.request(url, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status, url).toBe(401);
    }
    const sql = await app.request('/api/sql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT 1' }),
    });
    expect(sql.status).toBe(401);
    const ok = await app.request('/api/assets', { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
    const page = await app.request('/insights');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>billing-pipeline</title>');
  });
});
