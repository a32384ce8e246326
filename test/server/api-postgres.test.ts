import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { type App, createApp } from '../../src/server/app.js';
import { testPipeline } from '../support/pipeline.js';
import {
  createDatabase,
  type PostgresServer,
  postgresAvailable,
  startPostgres,
} from '../support/postgres.js';
import { tmpDir } from '../support/tmp.js';
import { inProcessLauncher, seed } from '../web/support.js';
import { ESCAPES, fingerprint } from './sql-escapes.js';

/**
 * The HTTP API over PostgreSQL answers as it does over DuckDB: one seeded bucket, materialized into
 * a DuckDB file and into a PostgreSQL database, then the main routes' JSON compared (run ids,
 * clock times and durations normalized). Plus POST /api/sql's guard on PostgreSQL.
 */

const withPostgres = postgresAvailable();

type Backend = 'duckdb' | 'postgres';
interface Side {
  runtime: Runtime;
  app: App;
}

const RUN_ID = /\b\d{8}-\d{6}-[0-9a-f]{6}\b/g;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$/;
/** Keys whose values come from the clock. */
const CLOCK_KEYS = new Set(['duration_ms', 'latest_duration_ms', 'elapsed_ms', 'generated_at']);

/**
 * Run ids, instants and durations (`…_ms`, phase timings such as `parseMs`, "in 12 ms" in messages)
 * differ between any two runs; everything else must not. A partition's `inputs` are in the order
 * its files finished loading, which concurrent ingest does not fix even on one backend.
 */
function normalize(value: unknown, key = ''): unknown {
  if ((CLOCK_KEYS.has(key) || /Ms$/.test(key)) && value !== null) return '<clock>';
  if (typeof value === 'string') {
    if (ISO.test(value)) return '<ts>';
    return value.replace(RUN_ID, '<run>').replace(/ in \d+ ms\b/g, ' in <n> ms');
  }
  if (key === 'inputs' && Array.isArray(value)) return [...value].sort();
  if (Array.isArray(value)) return value.map((v) => normalize(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v, k)]));
  }
  return value;
}

describe.skipIf(!withPostgres)('the HTTP API on PostgreSQL', () => {
  let server: PostgresServer | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  const sides = new Map<Backend, Side>();

  beforeAll(async () => {
    server = await startPostgres();
    const database = await createDatabase(server, 'api');
    dropDatabase = database.drop;
    const pipeline = await testPipeline('api-postgres');
    await seed(pipeline, { from: '2025-05-01', to: '2025-05-03', rowsPerDay: 40, dirtyRate: 0.05 });
    await pipeline.put('year=2025/month=05/day=04/broken.csv.gz', Buffer.from('not gzip at all'));
    const pgHome = await tmpDir('api-postgres-pg');
    const configs: Record<Backend, ReturnType<typeof loadConfig>> = {
      duckdb: loadConfig(
        { ...pipeline.env, BILLING_DUCKDB_THREADS: '2', BILLING_SQL_TIMEOUT_MS: '1000' },
        { source: pipeline.source, home: path.join(pipeline.home, 'state') },
      ),
      postgres: loadConfig(
        { ...pipeline.env, BILLING_DATABASE_URL: database.url, BILLING_SQL_TIMEOUT_MS: '1000' },
        { source: pipeline.source, home: pgHome },
      ),
    };
    for (const backend of ['duckdb', 'postgres'] as const) {
      const runtime = await openRuntime(configs[backend], { restrictFileAccess: backend === 'duckdb' });
      sides.set(backend, { runtime, app: createApp({ runtime, launcher: inProcessLauncher(runtime) }) });
      const summary = await runtime.materialize({ trigger: 'test' });
      // The broken file fails its day, not the run.
      expect(summary.status, `${backend}: ${summary.error}`).toBe('success');
      // A run in progress over one day of the aggregates, as another worker would have it.
      await runtime.ledger.createRun(
        {
          trigger: 'test',
          selection: ['daily_aggregates'],
          range: { from: '2025-05-02', to: '2025-05-02' },
          fullRefresh: false,
        },
        'running',
      );
    }
  }, 240_000);

  afterAll(async () => {
    for (const side of sides.values()) await side.runtime.close();
    await dropDatabase?.();
    await server?.stop();
  });

  const get = async (backend: Backend, url: string): Promise<{ status: number; body: unknown }> => {
    const side = sides.get(backend);
    if (!side) throw new Error(`${backend} is not open`);
    const res = await side.app.request(url);
    return { status: res.status, body: await res.json() };
  };

  const ROUTES = [
    '/api/assets',
    '/api/assets/billing_events',
    '/api/assets/daily_aggregates',
    '/api/assets/billing_events/partitions',
    '/api/assets/daily_aggregates/partitions',
    '/api/assets/billing_files/partitions',
    '/api/assets/billing_events/partitions/2025-05-02',
    '/api/assets/daily_aggregates/partitions/2025-05-02',
    '/api/assets/daily_aggregates/partitions/2025-05-03?rows=3',
    '/api/assets/billing_events/materializations',
    '/api/runs',
    '/api/runs?status=running',
    '/api/insights/summary',
    '/api/insights/summary?from=2025-05-02&to=2025-05-03',
    '/api/insights/summary?region=us-east-1',
    '/api/insights/daily',
    '/api/insights/daily?currency=EUR',
    '/api/insights/breakdown/region',
    '/api/insights/breakdown/service_tier?order=events',
    '/api/insights/breakdown/user_id?limit=5',
    '/api/insights/breakdown/operation_type?from=2025-05-01&to=2025-05-01',
    '/api/insights/options',
    '/api/insights/report',
    '/api/data/rejected-reasons',
    '/api/data/rejected-rows?limit=20',
    '/api/data/rejected-files',
    '/api/data/files',
    '/api/data/files?day=2025-05-02&status=loaded',
    '/api/lineage/day?day=2025-05-02',
    '/api/lineage/day?day=2025-05-02&region=us-east-1',
    '/api/lineage/rows?day=2025-05-01&limit=5',
    '/api/sensors',
    '/api/schedules',
  ];

  it.each(ROUTES)('%s answers the same on both backends', async (url) => {
    const duck = await get('duckdb', url);
    const postgres = await get('postgres', url);
    expect(duck.status, JSON.stringify(duck.body)).toBe(200);
    expect(postgres.status).toBe(200);
    expect(normalize(postgres.body)).toEqual(normalize(duck.body));
  });

  it('compares routes that have data in them', async () => {
    const summary = (await get('postgres', '/api/insights/summary')).body as {
      totals: Record<string, unknown>;
    };
    expect(JSON.stringify(summary)).toMatch(/"event_count":1\d\d\b/);
    const reasons = (await get('postgres', '/api/data/rejected-reasons')).body as { reasons: unknown[] };
    expect(reasons.reasons.length).toBeGreaterThan(0);
    const lineage = (await get('postgres', '/api/lineage/day?day=2025-05-02')).body as {
      files: unknown[];
      materializations: unknown[];
    };
    expect(lineage.files.length).toBeGreaterThan(1);
    expect(lineage.materializations.length).toBeGreaterThan(0);
    const report = (await get('postgres', '/api/insights/report')).body as Record<string, unknown[]>;
    expect(report.totals).toHaveLength(1);
    const assets = (await get('postgres', '/api/assets')).body as {
      assets: { name: string; status: string }[];
    };
    expect(assets.assets.find((a) => a.name === 'daily_aggregates')?.status).toBe('running');
  });

  it('shows the same partition states, including failed, running and missing days', async () => {
    const body = (await get('postgres', '/api/assets/billing_events/partitions')).body as {
      states: string;
      counts: Record<string, number>;
      first: string;
      last: string;
    };
    expect(body.first).toBe('2025-05-01');
    expect(body.last).toBe('2025-05-04');
    expect(body.states).toBe('mmmf');
    const daily = (await get('postgres', '/api/assets/daily_aggregates/partitions')).body as {
      states: string;
    };
    expect(daily.states.charAt(1)).toBe('r');
  });

  it('answers the run detail the same way', async () => {
    const runs = async (backend: Backend) =>
      ((await get(backend, '/api/runs')).body as { runs: { run_id: string; status: string }[] }).runs;
    const [duckRun] = (await runs('duckdb')).filter((r) => r.status === 'success');
    const [pgRun] = (await runs('postgres')).filter((r) => r.status === 'success');
    type Detail = { events: { seq: number }[] } & Record<string, unknown>;
    const duck = (await get('duckdb', `/api/runs/${duckRun?.run_id}`)).body as Detail;
    const postgres = await get('postgres', `/api/runs/${pgRun?.run_id}`);
    expect(postgres.status).toBe(200);
    const pg = postgres.body as Detail;
    // Concurrent ingest logs its files in the order they finish: compare the events as a set.
    const events = (detail: Detail) => {
      expect(detail.events.map((e) => e.seq)).toEqual(detail.events.map((_, i) => i));
      return detail.events.map(({ seq: _seq, ...e }) => JSON.stringify(normalize(e))).sort();
    };
    expect(events(pg)).toEqual(events(duck));
    expect(pg.events.length).toBeGreaterThan(10);
    // Each run records its own process's configuration: equal but for the (redacted) database URL.
    // Where a process keeps its state (home, warehouse) is not recorded at all.
    type Config = { home?: string; warehouse?: string; scale_out: Record<string, unknown> };
    const place = (detail: Detail) => {
      const { scale_out, ...rest } = detail.config as Config;
      return { ...rest, scale_out: { ...scale_out, database_url: null } };
    };
    expect(pg.config).not.toHaveProperty('home');
    expect(duck.config).not.toHaveProperty('warehouse');
    expect((pg.config as Config).scale_out.database_url).toMatch(/^postgres:\/\/[^:]+:\*\*\*@/);
    expect(place(pg)).toEqual(place(duck));
    expect(normalize({ ...pg, events: [], config: null })).toEqual(
      normalize({ ...duck, events: [], config: null }),
    );
  });

  describe('POST /api/sql on PostgreSQL', () => {
    const post = async (sql: string, extra: Record<string, unknown> = {}) => {
      const res = await sides.get('postgres')?.app.request('/api/sql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql, ...extra }),
      });
      if (!res) throw new Error('postgres is not open');
      return {
        status: res.status,
        body: (await res.json()) as {
          columns: { name: string; type: string }[];
          rows: Record<string, unknown>[];
          truncated: boolean;
          error?: { code: string; message: string };
        },
      };
    };

    it('answers a SELECT like DuckDB does, with parameters', async () => {
      const sql =
        'SELECT day, event_count, total_credit_usage FROM daily_aggregates WHERE day >= CAST($1 AS DATE) ORDER BY day';
      const postgres = await post(sql, { params: ['2025-05-02'] });
      const duckRes = await sides.get('duckdb')?.app.request('/api/sql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql, params: ['2025-05-02'] }),
      });
      const duck = (await duckRes?.json()) as { rows: unknown[]; columns: { name: string; type: string }[] };
      expect(postgres.status).toBe(200);
      expect(postgres.body.rows).toEqual(duck.rows);
      expect(postgres.body.rows.map((r) => r.day)).toEqual(['2025-05-02', '2025-05-03']);
      expect(postgres.body.columns).toEqual(duck.columns);
    });

    it('caps rows at the limit and says so', async () => {
      const capped = await post('SELECT * FROM billing_events ORDER BY source_key, source_line', {
        limit: 7,
      });
      expect(capped.status).toBe(200);
      expect(capped.body.rows).toHaveLength(7);
      expect(capped.body.truncated).toBe(true);
      const whole = await post('SELECT count(*) AS n FROM billing_files', { limit: 7 });
      expect(whole.body.truncated).toBe(false);
      expect(whole.body.rows).toEqual([{ n: 7 }]);
      const shown = await post('SHOW TimeZone');
      expect(shown.body.rows).toEqual([{ TimeZone: 'UTC' }]);
    });

    it.each([
      ['DELETE FROM billing_events', 403, 'read_only'],
      ['/* sneaky */ UPDATE runs SET status = $1', 403, 'read_only'],
      ['WITH d AS (DELETE FROM runs RETURNING *) SELECT * FROM d', 403, 'read_only'],
      ['CREATE TABLE x (a int)', 403, 'read_only'],
      ["COPY billing_events TO '/tmp/out.csv'", 403, 'read_only'],
      ['EXPLAIN ANALYZE DELETE FROM runs', 403, 'read_only'],
      ["SELECT nextval('check_result_seq')", 403, 'read_only'],
      ["SELECT pg_read_file('/etc/passwd')", 403, 'forbidden_function'],
      ["SELECT pg_read_binary_file('/etc/passwd')", 403, 'forbidden_function'],
      ["SELECT * FROM pg_ls_dir('.')", 403, 'forbidden_function'],
      ["SELECT lo_import('/etc/passwd')", 403, 'forbidden_function'],
      ["SELECT * FROM dblink('dbname=postgres', 'SELECT 1') AS t(a int)", 403, 'forbidden_function'],
      ["SELECT set_config('statement_timeout', '0', false)", 403, 'forbidden_function'],
      ["SELECT query_to_xml('DELETE FROM runs', true, true, '')", 403, 'forbidden_function'],
      ['SELECT pg_terminate_backend(1)', 403, 'forbidden_function'],
      ['SELECT pg_advisory_lock(1)', 403, 'forbidden_function'],
      ["SELECT U&\"\\0073et_config\"('a', 'b', false)", 403, 'forbidden_function'],
      ['SELECT 1; SELECT 2', 422, 'multiple_statements'],
      ['  -- nothing\n ', 422, 'empty_sql'],
      ['SELECT no_such_column FROM runs', 422, 'sql_error'],
      ['SELECT pg_sleep(5)', 422, 'timeout'],
    ])('refuses %s', async (sql, status, code) => {
      const res = await post(sql);
      expect(res.status).toBe(status);
      expect(res.body.error?.code).toBe(code);
    });

    it.each(ESCAPES)(
      'refuses %s on both backends, reveals no path and leaves both unchanged',
      async (sql) => {
        for (const backend of ['duckdb', 'postgres'] as const) {
          const side = sides.get(backend);
          if (!side) throw new Error(`${backend} is not open`);
          const before = await fingerprint(side.runtime.warehouse);
          const res = await side.app.request('/api/sql', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ sql }),
          });
          const text = await res.text();
          expect(res.status, `${backend}: ${text}`).toBeGreaterThanOrEqual(400);
          expect(res.status, `${backend}: ${text}`).toBeLessThan(500);
          expect(text, backend).not.toContain(side.runtime.config.home);
          expect(text, backend).not.toMatch(/root:|\/var\/lib\/postgres|pg_hba|postgresql\.conf/);
          expect(await fingerprint(side.runtime.warehouse), backend).toEqual(before);
        }
      },
    );

    it('leaves the data alone after refusing writes', async () => {
      const before = await post('SELECT count(*) AS n FROM runs');
      await post('DELETE FROM runs');
      await post('WITH d AS (DELETE FROM runs RETURNING *) SELECT * FROM d');
      expect((await post('SELECT count(*) AS n FROM runs')).body.rows).toEqual(before.body.rows);
      expect(before.body.rows[0]?.n).toBe(2);
    });
  });
});
