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

  it('compares the token in constant time, whatever the length of the guess', async () => {
    const app = createApp({ runtime: h.runtime, launcher: h.launcher, token: 's3cret' });
    for (const guess of ['', 'Bearer', 'Bearer s3cre', 'bearer s3cret', `Bearer ${'x'.repeat(5000)}`]) {
      const res = await app.request('/api/assets', { headers: { authorization: guess } });
      expect(res.status, guess.slice(0, 20)).toBe(401);
    }
  });

  it('refuses cross-site requests that would change something, and lets the UI and the CLI through', async () => {
    const app = createApp({ runtime: h.runtime, launcher: h.launcher });
    const sql = (headers: Record<string, string>, method = 'POST') =>
      app.request('http://127.0.0.1:4000/api/sql', {
        method,
        headers: { 'content-type': 'application/json', host: '127.0.0.1:4000', ...headers },
        body: JSON.stringify({ sql: 'SELECT 1 AS one' }),
      });
    const crossSite: Record<string, string>[] = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: 'http://127.0.0.1:5000' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:5000' },
      { 'sec-fetch-site': 'cross-site', origin: 'http://127.0.0.1:4000' },
    ];
    for (const headers of crossSite) {
      const res = await sql(headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: 'cross_site' } });
    }
    const allowed: Record<string, string>[] = [
      {},
      { 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:4000' },
      { 'sec-fetch-site': 'none' },
      { origin: 'http://127.0.0.1:4000' },
    ];
    for (const headers of allowed) {
      // Past the guard; this harness's warehouse is not sandboxed, so the endpoint itself answers 503.
      const res = await sql(headers);
      expect(res.status, JSON.stringify(headers)).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'unsandboxed' } });
    }
    // Reads are not refused: a cross-site GET cannot change anything and CORS hides its answer.
    const read = await app.request('http://127.0.0.1:4000/api/assets', {
      headers: { host: '127.0.0.1:4000', 'sec-fetch-site': 'cross-site' },
    });
    expect(read.status).toBe(200);
  });
});
