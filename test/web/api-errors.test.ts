import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness } from './support.js';

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown }>
  >;
}

/** Path parameter values no route can accept: unknown names, impossible days, traversal, SQL. */
const BAD_PATH_VALUES = ['nope', '2025-02-30', '..%2F..%2Fetc%2Fpasswd', "x'%20OR%201=1--", '%00'];
const BAD_QUERY_VALUES = ['garbage', '-1', '2025-13-01', "'; DROP TABLE runs; --"];
const BAD_BODIES = ['{not json', '[]', 'null', '{"selection":5,"from":"x","to":[],"sql":7,"limit":-1}'];

/**
 * Walks every operation in the OpenAPI document with malformed input: whatever a client sends,
 * the answer is JSON and never a 500 or a stack trace.
 */
describe('API error handling', () => {
  let h: ApiHarness;
  let doc: OpenApiDoc;
  beforeAll(async () => {
    h = await apiHarness('api-errors', { from: '2025-06-01', to: '2025-06-03', rowsPerDay: 40 });
    doc = (await h.get<OpenApiDoc>('/api/openapi.json')).body;
  }, 120_000);
  afterAll(() => h?.close());

  const send = async (method: string, url: string, body?: string, contentType = 'application/json') => {
    const res = await h.app.request(url, {
      method: method.toUpperCase(),
      headers: body === undefined ? {} : { 'content-type': contentType },
      body,
    });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as { error?: { code?: unknown } } };
  };

  const expectClean = (
    r: { status: number; text: string; json: { error?: { code?: unknown } } },
    what: string,
  ) => {
    expect(r.status, `${what}: ${r.text.slice(0, 300)}`).toBeLessThan(500);
    if (r.status >= 400) expect(typeof r.json.error?.code, what).toBe('string');
    expect(r.text, what).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
  };

  it('documents every route family', () => {
    const paths = Object.keys(doc.paths);
    for (const expected of [
      '/api/assets/{name}/partitions/{day}',
      '/api/runs/{id}',
      '/api/sensors/{name}/start',
      '/api/insights/breakdown/{dimension}',
      '/api/lineage/day',
      '/api/sql',
    ]) {
      expect(paths).toContain(expected);
    }
  });

  it('answers garbage path parameters with a JSON 4xx', async () => {
    let checked = 0;
    for (const [template, operations] of Object.entries(doc.paths)) {
      if (!template.includes('{')) continue;
      for (const method of Object.keys(operations)) {
        for (const value of BAD_PATH_VALUES) {
          const url = template.replace(/\{[^}]+\}/g, value);
          const body = operations[method]?.requestBody ? '{}' : undefined;
          const r = await send(method, url, body);
          expectClean(r, `${method} ${url}`);
          expect(r.status, `${method} ${url}`).toBeGreaterThanOrEqual(400);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('answers garbage query parameters without a 500', async () => {
    let rejected = 0;
    for (const [template, operations] of Object.entries(doc.paths)) {
      const get = operations.get;
      if (!get || template.includes('{')) continue;
      const names = (get.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      for (const name of names) {
        for (const value of BAD_QUERY_VALUES) {
          const url = `${template}?${new URLSearchParams({ [name]: value })}`;
          const r = await send('get', url);
          expectClean(r, `GET ${url}`);
          if (r.status >= 400) rejected++;
        }
      }
    }
    // Most parameters are days, limits or enums, which these values are not.
    expect(rejected).toBeGreaterThan(20);
  });

  it('answers malformed JSON bodies with a JSON 400', async () => {
    let checked = 0;
    for (const [template, operations] of Object.entries(doc.paths)) {
      const post = operations.post;
      if (!post?.requestBody || template.includes('{')) continue;
      for (const body of BAD_BODIES) {
        const r = await send('post', template, body);
        expectClean(r, `POST ${template} ${body}`);
        expect(r.status, `POST ${template} ${body}`).toBe(400);
        checked++;
      }
      const plain = await send('post', template, '{"sql":"SELECT 1"}', 'text/plain');
      expectClean(plain, `POST ${template} as text/plain`);
      expect(plain.status).toBeGreaterThanOrEqual(400);
    }
    expect(checked).toBeGreaterThanOrEqual(BAD_BODIES.length * 3);
  });

  it('answers unknown routes and methods with a JSON 404', async () => {
    for (const [method, url] of [
      ['get', '/api/nope'],
      ['delete', '/api/runs'],
      ['put', '/api/assets/billing_events'],
    ] as const) {
      const r = await send(method, url);
      expectClean(r, `${method} ${url}`);
      expect(r.status).toBe(404);
    }
  });
});
