/**
 * The reference for the full-load figure: the work `materialize` does on a first load, written as plain
 * DuckDB SQL with no per-file bookkeeping, no row validation in JS and no ledger. Run as a child `node`
 * process (like the CLI) so both pay a process start, module load and DuckDB open.
 *
 * With `"append": true` it is the reference for one more day: on a copy of a raw warehouse that
 * already holds N days (made by a full run of this script), it reads only the new day's files, joins
 * FX, inserts them, and refreshes every aggregate the way hand-written SQL would: delete the groups the
 * new rows touch and re-aggregate those groups from all events (a per-day aggregate's group is the day,
 * so that is the day alone; a whole-history one re-reads the touched keys' history), then rebuilds the
 * insight tables from the aggregates.
 *
 * usage: node dist/bench/raw-duckdb.js '{"db":…,"glob":…,"memoryLimit":"1GB","threads":2,"tempDirectory":…}'
 * prints one JSON line: { loadMs, aggregatesMs, insightsMs, checkpointMs, rows, spend } (spend: the
 * normalized total in the reporting currency, null when an event lacks a rate)
 */
// The pipeline's own DDL and aggregate SELECTs: the reference must compute the same tables, exactly.
import { AGGREGATES } from '../src/billing/aggregates/index.js';
import { normalizedAmount, rateJoin } from '../src/billing/fx/fx-sql.js';
import { aggregateSql, CREATE_PARTITION_TABLE, PARTITION_TABLES } from '../src/billing/sql/aggregate-sql.js';
import { INSIGHT_TABLES } from '../src/billing/sql/insights.js';
import { BILLING_TABLES } from '../src/billing/sql/tables.js';
// Opened through the project's thin DuckDB wrapper only so the instance has the very same settings and
// session macros (e.g. utc_now()) as the pipeline's; every statement below is still plain SQL.
import { openWarehouse } from '../src/warehouse/create-warehouse.js';

interface RawArgs {
  db: string;
  glob: string;
  memoryLimit: string;
  threads: number;
  tempDirectory: string;
  /** The FX rate CSV the pipeline normalizes with (`date,currency,rate`); without it amounts stay NULL. */
  fx?: string;
  /** Add the files of `glob` to an existing raw warehouse instead of building one (see above). */
  append?: boolean;
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

// Every column typed as in billing_events. The timestamp is read as TIMESTAMPTZ because the files mix
// `…Z`, `…+02:00` and zone-less values: a plain TIMESTAMP cast silently drops the offset.
const COLUMNS = `{
  'timestamp': 'TIMESTAMPTZ', 'resource_id': 'VARCHAR', 'user_id': 'BIGINT', 'credit_usage': 'DECIMAL(18,6)',
  'region': 'VARCHAR', 'service_tier': 'VARCHAR', 'operation_type': 'VARCHAR', 'success': 'BOOLEAN',
  'resource_type': 'VARCHAR', 'invoice_id': 'VARCHAR', 'currency': 'VARCHAR'}`;

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as RawArgs;
  const c = await openWarehouse({
    path: args.db,
    memoryLimit: args.memoryLimit,
    threads: args.threads,
    tempDirectory: args.tempDirectory,
  });
  const timings = { loadMs: 0, aggregatesMs: 0, insightsMs: 0, checkpointMs: 0 };
  let t = performance.now();
  const lap = (key: keyof typeof timings) => {
    const now = performance.now();
    timings[key] = Math.round(now - t);
    t = now;
  };

  // Casting TIMESTAMPTZ to TIMESTAMP uses the session zone when ICU is present: pin it to UTC.
  await c.exec("SET TimeZone = 'UTC'").catch(() => {});
  if (args.append) await append(c, args, lap);
  else await build(c, args, lap);
  // The normalized total, as the pipeline's billing_insights metadata records it (`spend`): the raw
  // total_credit_usage adds up amounts in different currencies and is no figure to compare.
  const [row] = await c.all<{ rows: number; spend: string | null }>(
    'SELECT CAST(total_events AS BIGINT) AS rows, CAST(total_normalized_credit_usage AS VARCHAR) AS spend FROM billing_insights',
  );
  // close() checkpoints, as the CLI's does, so the reference pays for writing the file out as well.
  await c.close();
  lap('checkpointMs');
  process.stdout.write(
    `${JSON.stringify({ ...timings, rows: Number(row?.rows ?? 0), spend: row?.spend ?? null })}\n`,
  );
}

type Warehouse = Awaited<ReturnType<typeof openWarehouse>>;
type Lap = (key: 'loadMs' | 'aggregatesMs' | 'insightsMs' | 'checkpointMs') => void;

/** The typed rows of `glob` with their normalized amounts: the SELECT both modes insert. */
const eventsSelect = (glob: string) => `WITH e AS (
      SELECT CAST("timestamp" AS TIMESTAMP) AS "timestamp", resource_id, user_id, credit_usage, region,
        service_tier, operation_type, success, resource_type, invoice_id, currency,
        CAST(year AS INTEGER) AS year, CAST(month AS INTEGER) AS month, CAST(day AS INTEGER) AS day,
        CAST(CAST("timestamp" AS TIMESTAMP) AS DATE) AS event_date, filename AS source_key, 0 AS source_line
      FROM read_csv(${quote(glob)}, header = true, auto_detect = false, hive_partitioning = true,
        filename = true, delim = ',', quote = '"', escape = '"', columns = ${COLUMNS}))
    SELECT e.*, ${normalizedAmount('e', 'fx', "'USD'")} FROM e ${rateJoin('e', 'fx')}`;

async function build(c: Warehouse, args: RawArgs, lap: Lap): Promise<void> {
  for (const statement of BILLING_TABLES) await c.exec(statement);
  // source_line has no cheap equivalent in read_csv (no per-file row number for CSV), so it is 0 here:
  // the reference is, if anything, slightly favoured.
  // Normalized amounts with the pipeline's own expression: the latest rate on or before the day.
  await c.exec(
    args.fx
      ? `CREATE TABLE fx_rates AS SELECT "date", upper(currency) AS currency, CAST(rate AS DECIMAL(20,10)) AS rate
         FROM read_csv(${quote(args.fx)}, header = true, auto_detect = false,
           columns = {'date': 'DATE', 'currency': 'VARCHAR', 'rate': 'VARCHAR'})`
      : 'CREATE TABLE fx_rates ("date" DATE, currency VARCHAR, rate DECIMAL(20,10))',
  );
  await c.exec(`INSERT INTO billing_events ${eventsSelect(args.glob)}`);
  lap('loadMs');
  // The aggregate SELECTs leave out partitions held back by failed checks: none here, so empty tables.
  for (const table of PARTITION_TABLES) await c.exec(CREATE_PARTITION_TABLE(table));
  for (const def of AGGREGATES) {
    const sql = aggregateSql(def);
    await c.exec(sql.create);
    await c.exec(sql.insertAll);
  }
  lap('aggregatesMs');
  for (const table of INSIGHT_TABLES) await c.exec(table.sql);
  lap('insightsMs');
}

async function append(c: Warehouse, args: RawArgs, lap: Lap): Promise<void> {
  // fx_rates is already in the warehouse (the FX file does not change between days).
  await c.exec(`CREATE TEMP TABLE new_events AS ${eventsSelect(args.glob)}`);
  await c.exec('INSERT INTO billing_events SELECT * FROM new_events');
  lap('loadMs');
  for (const table of PARTITION_TABLES) await c.exec(CREATE_PARTITION_TABLE(table));
  for (const def of AGGREGATES) {
    const sql = aggregateSql(def);
    const keys = def.keys.map((k) => `"${k.column}"`).join(', ');
    await c.exec(`CREATE TEMP TABLE affected_keys AS SELECT DISTINCT ${keys} FROM new_events`);
    await c.exec(sql.deleteAffected);
    await c.exec(sql.insertAffected);
    await c.exec('DROP TABLE affected_keys');
  }
  lap('aggregatesMs');
  for (const table of INSIGHT_TABLES) {
    await c.exec(`DROP TABLE IF EXISTS ${table.name}`);
    await c.exec(table.sql);
  }
  lap('insightsMs');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `raw-duckdb: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
