import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { type App, createApp } from '../../src/server/app.js';
import { testPipeline } from '../support/pipeline.js';
import { inProcessLauncher, seed } from './support.js';

interface SqlBody {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  truncated: boolean;
  error?: { code: string; message: string };
}

/**
 * POST /api/sql in-process over a real DuckDB warehouse opened the way the daemon opens it
 * (file and network access off), so refusals come from DuckDB itself, not from a mock.
 */
describe('SQL endpoint', () => {
  let runtime: Runtime;
  let app: App;

  beforeAll(async () => {
    const pipeline = await testPipeline('api-sql');
    await seed(pipeline, { from: '2025-05-01', to: '2025-05-03', rowsPerDay: 50 });
    expect((await pipeline.materialize()).status).toBe('success');
    const config = loadConfig(
      { ...pipeline.env, BILLING_DUCKDB_THREADS: '2', BILLING_SQL_TIMEOUT_MS: '1000' },
      { source: pipeline.source, home: path.join(pipeline.home, 'state') },
    );
    runtime = await openRuntime(config, { restrictFileAccess: true });
    app = createApp({ runtime, launcher: inProcessLauncher(runtime) });
  }, 120_000);
  afterAll(() => runtime?.close());

  const post = async (body: unknown, init: RequestInit = {}) => {
    const res = await app.request('/api/sql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...init,
    });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) as SqlBody, text };
  };

  it('answers a SELECT with typed columns and JSON-safe rows', async () => {
    const { status, body } = await post({
      sql: 'SELECT day, event_count, total_credit_usage FROM daily_aggregates ORDER BY day',
    });
    expect(status).toBe(200);
    expect(body.columns.map((c) => c.name)).toEqual(['day', 'event_count', 'total_credit_usage']);
    expect(body.rows.map((r) => r.day)).toEqual(['2025-05-01', '2025-05-02', '2025-05-03']);
    expect(typeof body.rows[0]?.total_credit_usage).toBe('string');
    expect(body.truncated).toBe(false);
  });

  it('caps rows at the limit and says so', async () => {
    const { status, body } = await post({ sql: 'SELECT * FROM range(50000)', limit: 25 });
    expect(status).toBe(200);
    expect(body.rows).toHaveLength(25);
    expect(body.truncated).toBe(true);
    const defaults = await post({ sql: 'SELECT * FROM range(50000)' });
    expect(defaults.body.rows).toHaveLength(1000);
    expect((await post({ sql: 'SELECT 1', limit: 1_000_000 })).status).toBe(400);
  });

  it('binds $n parameters', async () => {
    const { body } = await post({ sql: 'SELECT $1::INTEGER + 1 AS n, $2 AS s', params: [41, 'x'] });
    expect(body.rows).toEqual([{ n: 42, s: 'x' }]);
  });

  it.each([
    ['CREATE TABLE evil AS SELECT 1'],
    ['DELETE FROM daily_aggregates'],
    ["ATTACH '/tmp/other.duckdb' AS other"],
    ['SET threads = 1'],
    ['INSTALL httpfs'],
    ['EXPLAIN ANALYZE SELECT 1'],
  ])('refuses a statement that is not read-only: %s', async (sql) => {
    const { status, body } = await post({ sql });
    expect(status).toBe(403);
    expect(body.error?.code).toBe('read_only');
    const still = await post({ sql: 'SELECT count(*) AS n FROM daily_aggregates' });
    expect(still.body.rows).toEqual([{ n: 3 }]);
  });

  it('refuses COPY even into the one folder DuckDB may write to', async () => {
    const target = path.join(runtime.config.home, 'tmp', 'out.csv');
    const { status, body } = await post({ sql: `COPY daily_aggregates TO '${target}'` });
    expect(status).toBe(403);
    expect(body.error?.code).toBe('read_only');
    expect(existsSync(target)).toBe(false);
  });

  it.each([
    ["SELECT * FROM read_text('/etc/passwd')"],
    ["SELECT * FROM read_csv('/etc/passwd')"],
    ["SELECT * FROM '/etc/passwd'"],
    ["SELECT * FROM glob('/etc/*')"],
    ["SELECT * FROM read_text('http://127.0.0.1:9/x')"],
    ["SELECT * FROM query('CREATE TABLE evil AS SELECT 1')"],
  ])('gives SQL no file system, network or write access: %s', async (sql) => {
    const { status, body, text } = await post({ sql });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(body.error?.code).toMatch(/sql_error|read_only/);
    expect(text).not.toContain('root:');
    const tables = await post({ sql: "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'evil'" });
    expect(tables.body.rows).toEqual([{ n: 0 }]);
  });

  it('refuses several statements at once and empty SQL', async () => {
    const many = await post({ sql: 'SELECT 1; DROP TABLE daily_aggregates' });
    expect(many.status).toBe(422);
    expect(many.body.error?.code).toBe('multiple_statements');
    for (const sql of [' ; ', '-- only a comment']) {
      const empty = await post({ sql });
      expect(empty.status, sql).toBe(422);
      expect(empty.body.error?.code, sql).toBe('empty_sql');
    }
    const typo = await post({ sql: 'SELEC 1' });
    expect(typo.body.error?.message).toMatch(/syntax error/i);
  });

  it('interrupts a query at the time limit', async () => {
    const { status, body } = await post({ sql: 'SELECT count(*) FROM range(1000000000000) a' });
    expect(status).toBe(422);
    expect(body.error?.code).toBe('timeout');
    expect((await post({ sql: 'SELECT 1 AS one' })).body.rows).toEqual([{ one: 1 }]);
  });

  it('answers malformed requests with a 4xx JSON error, never a 500', async () => {
    const cases: [unknown, number][] = [
      ['{not json', 400],
      [{}, 400],
      [{ sql: 42 }, 400],
      [{ sql: '' }, 400],
      [{ sql: 'SELEC 1' }, 422],
      [{ sql: 'SELECT * FROM no_such_table' }, 422],
    ];
    for (const [body, expected] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(expected);
      expect(res.body.error?.code, JSON.stringify(body)).toBeTruthy();
      expect(res.text).not.toMatch(/\n\s+at /);
    }
    const noType = await app.request('/api/sql', { method: 'POST', body: '{"sql":"SELECT 1"}' });
    expect(noType.status).toBeGreaterThanOrEqual(400);
    expect(noType.status).toBeLessThan(500);
  });

  it('stays off over a warehouse opened with file access on', async () => {
    const open = await testPipeline('api-sql-open');
    const unrestricted = await open.open();
    try {
      const res = await createApp({
        runtime: unrestricted,
        launcher: inProcessLauncher(unrestricted),
      }).request('/api/sql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql: "SELECT * FROM read_text('/etc/passwd')" }),
      });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: 'unsandboxed' } });
    } finally {
      await unrestricted.close();
    }
  });
});
