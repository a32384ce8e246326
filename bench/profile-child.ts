/**
 * Runs one CLI command in this process with every DuckDB statement timed and, above a threshold,
 * DuckDB's own query profile kept (the operator tree with timings and cardinalities that EXPLAIN
 * ANALYZE prints, via `enable_profiling = 'json'`). bench/profile.ts starts it under `node --cpu-prof`.
 *
 * usage: node dist/bench/profile-child.js <out.json> <cli args…>
 * writes { clock, statements } to out.json on exit: `clock` pairs the monotonic clock (µs, the one a
 * .cpuprofile's timestamps use) with the epoch (ms, the ledger's), so samples map to assets.
 */
import '../src/quiet-sdk-warning.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** Statements faster than this keep only their time: their profile would be noise. */
const PLAN_THRESHOLD_MS = 5;

export interface PlanOperator {
  operator: string;
  ms: number;
  rows: number;
  extra: string;
}
export interface StatementRecord {
  sql: string;
  startEpochMs: number;
  ms: number;
  /** DuckDB's profile of the statement: total latency and the heaviest operators. */
  plan?: { latencyMs: number; rowsScanned: number; operators: PlanOperator[] };
}

interface ProfileNode {
  operator_type?: string;
  operator_name?: string;
  operator_timing?: number;
  operator_cardinality?: number;
  extra_info?: Record<string, unknown>;
  children?: ProfileNode[];
}

function operators(node: ProfileNode, into: PlanOperator[] = []): PlanOperator[] {
  for (const child of node.children ?? []) {
    const extra = Object.entries(child.extra_info ?? {})
      .map(([k, v]) => `${k}: ${String(v).replace(/\s+/g, ' ').slice(0, 80)}`)
      .join('; ');
    into.push({
      operator: child.operator_name || child.operator_type || '?',
      ms: Math.round((child.operator_timing ?? 0) * 10_000) / 10,
      rows: child.operator_cardinality ?? 0,
      extra: extra.slice(0, 200),
    });
    operators(child, into);
  }
  return into;
}

const out = process.argv[2] ?? '';
const argv = process.argv.slice(3);
const clock = { monotonicUs: Number(process.hrtime.bigint() / 1000n), epochMs: Date.now() };
const statements: StatementRecord[] = [];
const profileFile = new WeakMap<object, string>();
let connections = 0;

type Method = (this: DuckDBConnection, sql: string, ...rest: unknown[]) => Promise<unknown>;
const proto = DuckDBConnection.prototype as unknown as Record<string, Method>;
const originalRun = proto.run as Method;

const originalConnect = DuckDBInstance.prototype.connect;
DuckDBInstance.prototype.connect = async function (this: DuckDBInstance) {
  const connection = await originalConnect.call(this);
  const file = join(dirname(out), `duckdb-profile-${process.pid}-${++connections}.json`);
  await originalRun.call(connection, "SET enable_profiling = 'json'");
  await originalRun.call(connection, `SET profiling_output = '${file.replaceAll("'", "''")}'`);
  profileFile.set(connection, file);
  return connection;
};

// runAndReadAll calls run (and so on) synchronously inside the outer call: only the outer one counts.
let inner = false;
for (const name of ['run', 'runAndReadAll', 'runAndRead', 'stream', 'streamAndReadAll']) {
  const original = proto[name];
  if (typeof original !== 'function') continue;
  proto[name] = async function (this: DuckDBConnection, sql: string, ...rest: unknown[]) {
    if (inner) return original.call(this, sql, ...rest);
    const startEpochMs = Date.now();
    const t0 = performance.now();
    inner = true;
    let pending: Promise<unknown>;
    try {
      pending = original.call(this, sql, ...rest);
    } finally {
      inner = false;
    }
    try {
      return await pending;
    } finally {
      const record: StatementRecord = { sql: String(sql), startEpochMs, ms: performance.now() - t0 };
      const file = profileFile.get(this);
      if (file && record.ms >= PLAN_THRESHOLD_MS) {
        try {
          const p = JSON.parse(readFileSync(file, 'utf8')) as ProfileNode & {
            query_name?: string;
            latency?: number;
            cumulative_rows_scanned?: number;
          };
          // Another statement on the same connection may have finished first: keep only a match.
          if (p.query_name?.trim() === record.sql.trim()) {
            record.plan = {
              latencyMs: Math.round((p.latency ?? 0) * 10_000) / 10,
              rowsScanned: p.cumulative_rows_scanned ?? 0,
              operators: operators(p)
                .sort((a, b) => b.ms - a.ms)
                .slice(0, 6),
            };
          }
        } catch {
          // No profile for this statement (e.g. a PRAGMA): its time is still recorded.
        }
      }
      statements.push(record);
    }
  };
}

process.on('exit', () => {
  writeFileSync(out, `${JSON.stringify({ clock, statements })}\n`);
});

const { main } = await import('../src/cli/main.js');
process.exitCode = await main(argv);
