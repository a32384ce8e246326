import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { createSource } from '../../src/sources/create-source.js';
import type { Row, Warehouse } from '../../src/warehouse/warehouse.js';
import { createDatabase, type PostgresServer, startPostgres } from './postgres.js';
import { s3Env } from './s3.js';
import { tmpDir } from './tmp.js';

export type TestBackend = 'duckdb' | 'postgres';

/** The warehouse `testPipeline()` uses: BILLING_TEST_BACKEND=postgres (the `postgres` vitest project) or DuckDB. */
export const TEST_BACKEND: TestBackend =
  process.env.BILLING_TEST_BACKEND === 'postgres' ? 'postgres' : 'duckdb';

let server: Promise<PostgresServer> | undefined;

// Registered when a test file imports this module, so it runs after that file's tests: a vitest
// worker process may outlive the file, and the server with it.
afterAll(async () => {
  const running = server;
  server = undefined;
  if (running) await (await running).stop();
});

/** A fresh database on this test file's PostgreSQL server, started on first use. */
export async function freshPostgresDatabase(): Promise<string> {
  server ??= startPostgres();
  return (await createDatabase(await server, 'pipeline')).url;
}

export const HEADER =
  'timestamp,resource_id,user_id,credit_usage,region,service_tier,operation_type,success,resource_type,invoice_id,currency';

/** A valid row; override fields by name. */
export function row(overrides: Partial<Record<string, string>> = {}): string {
  const base: Record<string, string> = {
    timestamp: '2025-04-23T10:00:00Z',
    resource_id: 'res-1',
    user_id: '1',
    credit_usage: '1.500000',
    region: 'us-east-1',
    service_tier: 'standard',
    operation_type: 'compute',
    success: 'true',
    resource_type: 'vm',
    invoice_id: 'INV-1',
    currency: 'USD',
  };
  return HEADER.split(',')
    .map((c) => overrides[c] ?? base[c] ?? '')
    .join(',');
}

export function csv(...rows: string[]): string {
  return `${[HEADER, ...rows].join('\n')}\n`;
}

export interface TestPipeline {
  source: string;
  home: string;
  env: Record<string, string>;
  put(key: string, body: string | Buffer): Promise<void>;
  open(): Promise<Runtime>;
  /** Opens, materializes (whole graph unless `selection`), closes. */
  materialize(request?: Partial<Parameters<Runtime['materialize']>[0]>): ReturnType<Runtime['materialize']>;
  rows(sql: string): Promise<Row[]>;
}

/**
 * FX rates for every currency the sample generator writes, valid from 2000 on: generated data
 * normalizes (to USD) unless a test opts out with `fx: null` or brings its own file.
 */
export const TEST_FX_RATES =
  'date,currency,rate\n2000-01-01,EUR,1.0850000000\n2000-01-01,GBP,1.2700000000\n2000-01-01,JPY,0.0066500000\n';

/**
 * A fresh S3 bucket (on the shared s3rver) and a fresh warehouse: a folder for DuckDB, or a new
 * database when the backend is PostgreSQL (`backend`, default TEST_BACKEND).
 */
export async function testPipeline(
  name: string,
  options: {
    source?: string;
    fx?: string | null;
    backend?: TestBackend;
    /** More settings, as variables (`BILLING_INGEST_PARSER: 'js'`). */
    env?: Record<string, string>;
  } = {},
): Promise<TestPipeline> {
  const env: Record<string, string> = { ...s3Env(), ...options.env };
  if ((options.backend ?? TEST_BACKEND) === 'postgres') {
    env.BILLING_DATABASE_URL = await freshPostgresDatabase();
  }
  const source = options.source ?? (await (await import('./s3.js')).freshBucket(name));
  const home = await tmpDir(name);
  if (options.fx === undefined) {
    const fxPath = path.join(home, 'fx-rates.csv');
    await writeFile(fxPath, TEST_FX_RATES);
    env.BILLING_FX_SOURCE = fxPath;
  } else if (options.fx !== null) {
    env.BILLING_FX_SOURCE = options.fx;
  }
  const sink = createSource(source, env);
  const open = () =>
    openRuntime(
      loadConfig({ ...env, BILLING_DUCKDB_THREADS: '2' }, { source, home: path.join(home, 'state') }),
    );
  const withRuntime = async <T>(fn: (r: Runtime) => Promise<T>): Promise<T> => {
    const runtime = await open();
    try {
      return await fn(runtime);
    } finally {
      await runtime.close();
    }
  };
  return {
    source,
    home,
    env,
    put: (key, body) => sink.put(key, body),
    open,
    materialize: (request = {}) => withRuntime((r) => r.materialize({ trigger: 'test', ...request })),
    rows: (sql) => withRuntime((r) => r.warehouse.all(sql)),
  };
}

/** Every aggregate and insight table, ordered, for comparing two warehouses. */
export const RESULT_TABLES: Record<string, string> = {
  billing_events: 'SELECT * EXCLUDE (source_line) FROM billing_events ORDER BY source_key, source_line',
  daily_aggregates: 'SELECT * FROM daily_aggregates ORDER BY day',
  user_aggregates: 'SELECT * FROM user_aggregates ORDER BY user_id',
  service_aggregates: 'SELECT * FROM service_aggregates ORDER BY ALL',
  region_aggregates: 'SELECT * FROM region_aggregates ORDER BY region NULLS FIRST',
  currency_aggregates: 'SELECT * FROM currency_aggregates ORDER BY currency NULLS FIRST',
  user_daily_aggregates: 'SELECT * FROM user_daily_aggregates ORDER BY day, user_id',
  region_daily_aggregates: 'SELECT * FROM region_daily_aggregates ORDER BY day, region NULLS FIRST',
  insights_spend_anomalies: 'SELECT * FROM insights_spend_anomalies ORDER BY ALL',
  insights_top_users: 'SELECT * FROM insights_top_users ORDER BY rank',
  insights_top_regions: 'SELECT * FROM insights_top_regions ORDER BY rank',
  insights_daily_change: 'SELECT * FROM insights_daily_change ORDER BY day',
  billing_insights: 'SELECT * EXCLUDE (generated_at) FROM billing_insights',
};

/**
 * A RESULT_TABLES query as PostgreSQL runs it: DuckDB's `* EXCLUDE (…)` becomes `*` with those
 * columns dropped from the rows, and `ORDER BY ALL` the ordinals of every column, as DuckDB means it.
 */
async function portableRows(warehouse: Warehouse, sql: string): Promise<Row[]> {
  if (warehouse.dialect === 'duckdb') return warehouse.all(sql);
  const exclude =
    /\* EXCLUDE \(([^)]*)\)/
      .exec(sql)?.[1]
      ?.split(',')
      .map((c) => c.trim()) ?? [];
  let text = sql.replace(/\* EXCLUDE \([^)]*\)/, '*');
  if (/ORDER BY ALL/.test(text)) {
    const table = /FROM (\w+)/.exec(text)?.[1] ?? '';
    const { columns } = await warehouse.query(`SELECT * FROM ${table} LIMIT 0`);
    text = text.replace('ORDER BY ALL', `ORDER BY ${columns.map((_, i) => i + 1).join(', ')}`);
  }
  const rows = await warehouse.all(text);
  for (const row of rows) for (const column of exclude) delete row[column];
  return rows;
}

export async function snapshot(p: TestPipeline): Promise<Record<string, Row[]>> {
  const runtime = await p.open();
  try {
    const out: Record<string, Row[]> = {};
    for (const [table, sql] of Object.entries(RESULT_TABLES))
      out[table] = await portableRows(runtime.warehouse, sql);
    return out;
  } finally {
    await runtime.close();
  }
}
