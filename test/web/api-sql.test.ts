import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { type App, createApp } from '../../src/server/app.js';
import { runReadOnlySql, SqlRefusal } from '../../src/server/sql-runner.js';
import { SqlService } from '../../src/server/sql-service.js';
import { ESCAPES, fingerprint, TRANSACTIONAL_ESCAPES } from '../server/sql-escapes.js';
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
  let baseline: unknown;

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
    baseline = await fingerprint(runtime.warehouse);
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
    expect(body.error?.code).toMatch(/sql_error|read_only|forbidden_function/);
    expect(text).not.toContain('root:');
    const tables = await post({ sql: "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'evil'" });
    expect(tables.body.rows).toEqual([{ n: 0 }]);
  });

  const postCsv = async (body: unknown) => {
    const res = await app.request('/api/sql/csv', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  it('downloads the whole result as CSV, past the 1,000-row screen cap', async () => {
    const { status, headers, text } = await postCsv({ sql: 'SELECT range AS n FROM range(2500)' });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/csv/);
    expect(headers.get('x-result-truncated')).toBe('false');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('n');
    expect(lines.length - 1).toBe(2500);
    expect(lines[2500]).toBe('2499');
    // The same rows as POST /api/sql would cap at its limit.
    const capped = await post({ sql: 'SELECT range AS n FROM range(2500)' });
    expect(capped.body.rows.length).toBe(1000);
    expect(capped.body.truncated).toBe(true);
  });

  it.each([
    ["SELECT * FROM read_text('/etc/passwd')"],
    ["SELECT * FROM query('CREATE TABLE evil AS SELECT 1')"],
    ['CREATE TABLE evil AS SELECT 1'],
  ])('keeps the CSV route read-only: %s', async (sql) => {
    const { status, text } = await postCsv({ sql });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(JSON.parse(text).error.code).toMatch(/sql_error|read_only|forbidden_function/);
    expect(text).not.toContain('root:');
    expect(await fingerprint(runtime.warehouse)).toEqual(baseline);
  });

  it('lists the tables and views with their columns', async () => {
    const res = await app.request('/api/sql/schema');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      tables: { name: string; kind: string; columns: { name: string; type: string }[] }[];
    };
    const daily = body.tables.find((t) => t.name === 'daily_aggregates');
    expect(daily?.columns.map((c) => c.name)).toContain('event_count');
    expect(body.tables.find((t) => t.name === 'billing_files')?.kind).toBe('table');
    expect(body.tables.some((t) => t.name === 'columns' || t.name === 'tables')).toBe(false);
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

  it.each(ESCAPES)('refuses %s, reveals no path and leaves the warehouse unchanged', async (sql) => {
    const { status, body, text } = await post({ sql });
    expect(status, text).toBeGreaterThanOrEqual(400);
    expect(status, text).toBeLessThan(500);
    expect(body.error?.code).toMatch(/read_only|forbidden_function|multiple_statements|sql_error/);
    expect(text).not.toContain(runtime.config.home);
    expect(await fingerprint(runtime.warehouse)).toEqual(baseline);
    expect((await post({ sql: 'SELECT 1 AS one' })).body.rows).toEqual([{ one: 1 }]);
  });

  it('reveals no state path through the configuration runs record', async () => {
    const { status, body, text } = await post({ sql: 'SELECT config FROM runs' });
    expect(status, text).toBe(200);
    expect(body.rows.length).toBeGreaterThan(0);
    // The runs did record a configuration: the query saw it, just not where the state lives.
    expect(text).toContain('reporting_currency');
    // BILLING_HOME of the process that ran them (the FX file the test wrote beside it is a run input).
    expect(text).not.toContain(runtime.config.home);
    expect(text).not.toContain(runtime.config.warehousePath);
    for (const row of body.rows) {
      const config = JSON.parse(String(row.config)) as Record<string, unknown>;
      expect(Object.keys(config)).not.toContain('home');
      expect(Object.keys(config)).not.toContain('warehouse');
    }
  });

  it.each(TRANSACTIONAL_ESCAPES)(
    'with the parser layer off, the read-only rolled-back transaction alone holds: %s',
    async (sql) => {
      const attempt = runReadOnlySql(
        runtime.warehouse,
        { sql, limit: 10, timeoutMs: 5000, maxBytes: 1_000_000 },
        { unsafeSkipParserLayer: true },
      );
      await expect(attempt).rejects.toBeInstanceOf(SqlRefusal);
      expect(await fingerprint(runtime.warehouse)).toEqual(baseline);
    },
  );

  it.each([
    ['SHOW TABLES'],
    ['DESCRIBE daily_aggregates'],
    ['SUMMARIZE daily_aggregates'],
    ['FROM daily_aggregates LIMIT 1'],
    ['VALUES (1), (2)'],
    ["SELECT table_name FROM information_schema.tables WHERE table_name = 'runs'"],
    ["SELECT column_name FROM duckdb_columns() WHERE table_name = 'runs' LIMIT 1"],
    [
      'WITH d AS (SELECT day, event_count FROM daily_aggregates) SELECT day, rank() OVER (ORDER BY event_count) FROM d',
    ],
    ['SELECT list_transform([1, 2], x -> x + 1) AS l, utc_now() IS NOT NULL AS now, random() < 2 AS r'],
    ['SELECT * FROM range(3) UNION ALL SELECT * FROM generate_series(1, 2)'],
    ["SELECT strftime(day, '%Y') AS y, sum(total_credit_usage) FROM daily_aggregates GROUP BY ALL"],
  ])('still answers a plain query: %s', async (sql) => {
    const { status, text } = await post({ sql });
    expect(status, text).toBe(200);
  });

  it('caps the result in bytes as well as rows, and refuses a first row above the cap', async () => {
    const small = createApp({
      runtime,
      launcher: inProcessLauncher(runtime),
      sql: new SqlService({
        warehouse: runtime.warehouse,
        databaseUrl: null,
        timeoutMs: 5000,
        maxConcurrent: 2,
        maxResultBytes: 2000,
      }),
    });
    const ask = async (sql: string) => {
      const res = await small.request('/api/sql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql, limit: 10_000 }),
      });
      return { status: res.status, body: (await res.json()) as SqlBody };
    };
    const capped = await ask('SELECT range AS n FROM range(10000)');
    expect(capped.status).toBe(200);
    expect(capped.body.truncated).toBe(true);
    expect(capped.body.rows.length).toBeGreaterThan(10);
    expect(capped.body.rows.length).toBeLessThan(10_000);
    expect(Buffer.byteLength(JSON.stringify(capped.body.rows))).toBeLessThanOrEqual(2000);
    const huge = await ask('SELECT list(i) AS l FROM range(1000000) t(i)');
    expect(huge.status).toBe(413);
    expect(huge.body.error?.code).toBe('result_too_large');
    expect(huge.body.error?.message).toMatch(/BILLING_SQL_MAX_RESULT_BYTES/);
    for (const sql of [
      'SELECT map(list(i), list(i)) AS m FROM range(100000) t(i)',
      'SELECT {a: list(i)} AS s FROM range(100000) t(i)',
      'SELECT [list(i)] AS nested FROM range(100000) t(i)',
      "SELECT repeat('x', 10000000) AS text",
    ]) {
      const nested = await ask(sql);
      expect(nested.status, sql).toBe(413);
      expect(nested.body.error?.code, sql).toBe('result_too_large');
    }
  });

  it('holds the time limit for every query however many run at once, and closes every connection', async () => {
    const connections = async () => {
      const [row] = await runtime.warehouse.all('SELECT * FROM duckdb_connection_count()');
      return Number(Object.values(row ?? {})[0]);
    };
    const before = await connections();
    const heavy = Array.from({ length: 6 }, () =>
      post({ sql: 'SELECT count(*) FROM range(1000000000000) a' }),
    );
    const results = await Promise.all(heavy);
    for (const r of results) expect([422, 429], r.text).toContain(r.status);
    expect(results.filter((r) => r.body.error?.code === 'timeout').length).toBeGreaterThanOrEqual(2);
    // Every query's own connection is closed again: none was abandoned still running.
    expect(await connections()).toBe(before);
    expect((await post({ sql: 'SELECT 1 AS one' })).body.rows).toEqual([{ one: 1 }]);
  });

  it('answers 429 with Retry-After once the queue is full', async () => {
    const busy = createApp({
      runtime,
      launcher: inProcessLauncher(runtime),
      sql: new SqlService({
        warehouse: runtime.warehouse,
        databaseUrl: null,
        timeoutMs: 1000,
        maxConcurrent: 1,
        maxResultBytes: 1_000_000,
      }),
    });
    const responses = await Promise.all(
      Array.from({ length: 7 }, () =>
        busy.request('/api/sql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sql: 'SELECT count(*) FROM range(1000000000000) a' }),
        }),
      ),
    );
    const refused = responses.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]?.headers.get('retry-after')).toBe('1');
    expect(await refused[0]?.json()).toMatchObject({ error: { code: 'busy' } });
  });

  it('keeps the probes and the health route answering while heavy queries run', async () => {
    let heavyDone = false;
    const heavy = Promise.all(
      Array.from({ length: 4 }, () => post({ sql: 'SELECT count(*) FROM range(1000000000000) a' })),
    ).then(() => {
      heavyDone = true;
    });
    // Give the heavy queries time to start on their connections.
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const url of ['/healthz', '/readyz', '/api/health']) {
      const res = await app.request(url);
      expect(res.status, url).toBe(200);
      expect(heavyDone, `${url} answered only after the heavy queries ended`).toBe(false);
    }
    await heavy;
  });

  it('refuses request bodies above the limit with 413, also when they are streamed', async () => {
    const big = await app.request('/api/sql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: `SELECT '${'x'.repeat(2 * 1024 * 1024)}'` }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: 'body_too_large' } });
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(32);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 300) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const streamed = await app.request(
      new Request('http://localhost/api/sql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
    expect(pulled).toBeLessThan(300);
  });

  it('stops the query of a client that went away, freeing its slot at once', async () => {
    const single = createApp({
      runtime,
      launcher: inProcessLauncher(runtime),
      sql: new SqlService({
        warehouse: runtime.warehouse,
        databaseUrl: null,
        timeoutMs: 60_000,
        maxConcurrent: 1,
        maxResultBytes: 1_000_000,
      }),
    });
    const ask = (sql: string, signal?: AbortSignal) =>
      single.request(
        new Request('http://localhost/api/sql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sql }),
          signal,
        }),
      );
    const client = new AbortController();
    const abandoned = ask('SELECT count(*) FROM range(1000000000000) a', client.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.abort();
    expect((await abandoned).status).toBe(503);
    // With the one slot still held, this would wait for the 60 s time limit.
    const next = await ask('SELECT 1 AS one');
    expect(next.status).toBe(200);
    expect(await next.json()).toMatchObject({ rows: [{ one: 1 }] });
  });
});
