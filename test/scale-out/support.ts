import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import type { Row } from '../../src/warehouse/warehouse.js';
import { childEnv, cli, watchOutput } from '../automation/daemon-support.js';
import { createDatabase, type PostgresServer } from '../support/postgres.js';
import { freshBucket, s3Env } from '../support/s3.js';
import { tmpDir } from '../support/tmp.js';

const BIN = path.join(import.meta.dirname, '../../src/cli/bin.ts');

export interface Cluster {
  /** The environment every process of the cluster gets: S3, source, FX, PostgreSQL, fast queue timings. */
  env: Record<string, string>;
  /** The same source and FX file with an embedded DuckDB home instead: the reference. */
  embeddedEnv: Record<string, string>;
  databaseUrl: string;
  source: string;
}

/** A fresh bucket with generated data and FX rates, a fresh database, and homes for both modes. */
export async function cluster(
  server: PostgresServer,
  name: string,
  data: { from: string; to: string; rowsPerDay: number; filesPerDay?: number; dirtyRate?: number },
): Promise<Cluster> {
  const { url } = await createDatabase(server, name.replace(/\W/g, '_'));
  const source = await freshBucket(name);
  // Outside the bucket, so the listing never sees it; every process of a test runs on this machine.
  const fx = path.join(await tmpDir(`${name}-fx`), 'rates.csv');
  const base = { ...s3Env(), BILLING_SOURCE: source, BILLING_FX_SOURCE: fx };
  const generated = await cli(
    base,
    'generate',
    '--out',
    source,
    '--from',
    data.from,
    '--to',
    data.to,
    '--rows-per-day',
    String(data.rowsPerDay),
    '--files-per-day',
    String(data.filesPerDay ?? 1),
    '--dirty-rate',
    String(data.dirtyRate ?? 0),
    '--fx-rates',
    fx,
  );
  if (generated.code !== 0) throw new Error(`generate failed: ${generated.stderr}`);
  return {
    env: {
      ...base,
      BILLING_HOME: await tmpDir(`${name}-pg`),
      BILLING_DATABASE_URL: url,
      BILLING_QUEUE_MAINTENANCE_INTERVAL: '1',
      BILLING_QUEUE_RETRY_DELAY: '1',
    },
    embeddedEnv: { ...base, BILLING_HOME: await tmpDir(`${name}-duckdb`) },
    databaseUrl: url,
    source,
  };
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `billing-pipeline ARGS` as a long-running child (worker, serve); killed when the test ends. */
export function startProcess(env: Record<string, string>, ...args: string[]): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const { output, waitFor } = watchOutput(child, args[0] ?? 'billing-pipeline');
  return {
    child,
    output,
    waitFor: (pattern, timeoutMs = 60_000) => waitFor(pattern, timeoutMs),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export async function startWorkers(
  env: Record<string, string>,
  count: number,
  concurrency = 1,
): Promise<Proc[]> {
  const workers = Array.from({ length: count }, () =>
    startProcess(env, 'worker', '--concurrency', String(concurrency)),
  );
  await Promise.all(workers.map((w) => w.waitFor(/worker started/)));
  return workers;
}

/** What both modes must agree on exactly: every aggregate, and events summarized per file. */
export const COMPARED: Record<string, string> = {
  events_per_file: `SELECT source_key, count(*) AS events, count(DISTINCT source_line) AS lines,
      sum(credit_usage) AS credits, sum(normalized_credit_usage) AS normalized
    FROM billing_events GROUP BY source_key `,
  rejected_rows: 'SELECT source_key, count(*) AS n FROM rejected_rows GROUP BY source_key',
  files: 'SELECT source_key, status, row_count FROM billing_files',
  daily_aggregates: 'SELECT * FROM daily_aggregates',
  user_aggregates: 'SELECT * FROM user_aggregates',
  service_aggregates: 'SELECT * FROM service_aggregates',
  region_aggregates: 'SELECT * FROM region_aggregates',
  user_daily_aggregates: 'SELECT * FROM user_daily_aggregates',
  region_daily_aggregates: 'SELECT * FROM region_daily_aggregates',
  currency_aggregates: 'SELECT * FROM currency_aggregates',
};

/** Reads the compared tables from a warehouse (PostgreSQL URL or DuckDB home). */
export async function snapshot(where: {
  databaseUrl?: string;
  home?: string;
}): Promise<Record<string, Row[]>> {
  const warehouse = await openWarehouse({
    databaseUrl: where.databaseUrl,
    path: path.join(where.home ?? '.', 'billing.duckdb'),
  });
  try {
    const out: Record<string, Row[]> = {};
    // Sorted here, whole rows: ORDER BY a key prefix leaves ties in engine order.
    for (const [name, sql] of Object.entries(COMPARED)) {
      const rows = await warehouse.all(sql);
      out[name] = rows
        .map((r) => [JSON.stringify(r), r] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, r]) => r);
    }
    return out;
  } finally {
    await warehouse.close();
  }
}

/**
 * Materializes the same source once in the embedded mode and asserts every compared table of the
 * PostgreSQL run equals it, with no event doubled; returns the PostgreSQL snapshot.
 */
export async function expectSameAsEmbedded(c: Cluster): Promise<Record<string, Row[]>> {
  const embedded = await cli(c.embeddedEnv, 'materialize');
  expect(embedded.code, embedded.stderr).toBe(0);
  const [scaled, reference] = await Promise.all([
    snapshot({ databaseUrl: c.databaseUrl }),
    snapshot({ home: c.embeddedEnv.BILLING_HOME }),
  ]);
  for (const f of scaled.events_per_file ?? []) expect(f.events).toBe(f.lines);
  expect(scaled).toEqual(reference);
  return scaled;
}

/** Polls the ledger on PostgreSQL until the run ends. */
export async function runStatus(databaseUrl: string, runId: string, timeoutMs = 120_000): Promise<string> {
  const warehouse = await openWarehouse({ databaseUrl, path: '' });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [row] = await warehouse.all<{ status: string }>('SELECT status FROM runs WHERE run_id = $1', [
        runId,
      ]);
      if (row && !['queued', 'running'].includes(row.status)) return row.status;
      if (Date.now() > deadline) throw new Error(`run ${runId} still ${row?.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await warehouse.close();
  }
}

export { postgresPerFile } from '../support/postgres.js';
export { cli };
