import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import type { Runtime } from '../runtime.js';
import { createApp } from './app.js';
import type { RunLauncher } from './app-deps.js';

const launcher: RunLauncher = {
  submit: async () => ({ runId: 'r', deduplicated: false }),
  cancel: async () => false,
};
// A real configuration, no warehouse: none of these requests reads data.
const runtime = { config: loadConfig({ BILLING_HOME: '/nonexistent/billing-home' }) } as Runtime;

describe('app', () => {
  it('answers unknown API routes with a JSON 404', async () => {
    const res = await createApp({ runtime, launcher }).request('/api/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('serves an OpenAPI document', async () => {
    const res = await createApp({ runtime, launcher }).request('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ openapi: '3.1.0' });
  });

  it('requires the bearer token when one is configured', async () => {
    const app = createApp({ runtime, launcher, token: 's3cret' });
    expect((await app.request('/api/health')).status).toBe(401);
    const ok = await app.request('/api/health', { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
  });
});
