import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../src/billing/generate/generator.js';
import { createSource } from '../../src/sources/create-source.js';
import type { ColumnInfo, Row, Warehouse } from '../../src/warehouse/warehouse.js';
import { csv, row, type TestPipeline } from '../support/pipeline.js';

/**
 * Every table of the ingest side, in a fixed order. Columns that differ between any two runs
 * (run ids, wall-clock stamps) are compared by presence only.
 */
const INGEST_TABLES: Record<string, { order: string; volatile?: readonly string[] }> = {
  billing_files: {
    order: 'source_key',
    volatile: ['first_seen_at', 'last_seen_at', 'loaded_at', 'loaded_run_id'],
  },
  billing_events: { order: 'source_key, source_line' },
  rejected_rows: { order: 'source_key, line_number', volatile: ['run_id', 'rejected_at'] },
  rejected_files: { order: 'source_key, source_version', volatile: ['run_id', 'rejected_at'] },
  fx_rates: { order: 'currency, date', volatile: ['loaded_run_id', 'loaded_at'] },
  fx_rate_history: {
    order: 'change_id, currency NULLS FIRST, date NULLS FIRST',
    volatile: ['run_id', 'changed_at'],
  },
  fx_state: { order: 'reporting_currency', volatile: ['updated_at'] },
};

/**
 * The keys logged for the aggregates, without their change ids: how loads are grouped into
 * batches (and so into change ids) depends on timing, the keys logged do not.
 */
const CHANGED_KEYS = `SELECT DISTINCT event_date, user_id, region, service_tier, resource_type, operation_type, currency
  FROM billing_event_changes ORDER BY 1, 2, 3, 4, 5, 6, 7`;

export interface IngestSnapshot {
  columns: Record<string, ColumnInfo[]>;
  rows: Record<string, Row[]>;
}

/** All ingest tables of a warehouse: column names and types, and every row. */
export async function ingestSnapshot(warehouse: Warehouse): Promise<IngestSnapshot> {
  const out: IngestSnapshot = { columns: {}, rows: {} };
  for (const [table, spec] of Object.entries(INGEST_TABLES)) {
    out.columns[table] = (await warehouse.query(`SELECT * FROM ${table} LIMIT 0`)).columns;
    const rows = await warehouse.all(`SELECT * FROM ${table} ORDER BY ${spec.order}`);
    for (const r of rows) {
      for (const column of spec.volatile ?? []) r[column] = r[column] === null ? null : '(set)';
    }
    out.rows[table] = rows;
  }
  out.rows.billing_event_changes = await warehouse.all(CHANGED_KEYS);
  return out;
}

export async function ingestSnapshotOf(p: TestPipeline): Promise<IngestSnapshot> {
  const runtime = await p.open();
  try {
    return await ingestSnapshot(runtime.warehouse);
  } finally {
    await runtime.close();
  }
}

/** Rates that change over time, a currency whose rates start late (JPY) and one with none (CHF). */
export const FX_V1 = [
  'date,currency,rate',
  '2025-03-01,EUR,1.0800000000',
  '2025-04-02,EUR,1.0912345678',
  '2025-03-01,GBP,1.2700000000',
  '2025-04-03,JPY,0.0066512345',
].join('\n');

/** A corrected FX file: one rate changed, JPY known from earlier, a rate removed. */
export const FX_V2 = [
  'date,currency,rate',
  '2025-03-01,EUR,1.0800000000',
  '2025-04-02,EUR,1.0999999999',
  '2025-03-01,JPY,0.0066000000',
  '2025-04-03,JPY,0.0066512345',
].join('\n');

export async function writeFx(path: string, text: string): Promise<void> {
  await writeFile(path, `${text}\n`);
}

/**
 * The first input: generated days with dirty rows and every currency, two hand-written files on
 * one day (one with CHF, no rate, and amounts whose product overflows DECIMAL(18,6)), and a file
 * missing columns.
 */
export async function seedFirstInput(p: TestPipeline): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'ingest-seed-'));
  const sink = createSource(p.source, p.env);
  try {
    await generate(
      {
        from: '2025-04-01',
        to: '2025-04-04',
        rowsPerDay: 300,
        seed: 17,
        dirtyRate: 0.03,
        filesPerDay: 2,
        tmpDir: tmp,
      },
      (key, path) => sink.putFile(key, path),
    );
  } finally {
    await sink.close();
    await rm(tmp, { recursive: true, force: true });
  }
  await p.put(
    'year=2025/month=04/day=02/manual-a.csv',
    csv(
      row({ timestamp: '2025-04-02T10:00:00Z', currency: 'CHF', user_id: '7001' }),
      row({ timestamp: '2025-04-01T23:59:59.999999Z', currency: 'EUR', credit_usage: '999999999999.999999' }),
      row({ timestamp: '2025-04-02T01:00:00+02:00', currency: 'JPY', credit_usage: '123.456789' }),
      row({ timestamp: 'not a time' }),
      row({ currency: 'GBP', credit_usage: '-0.000001', success: 'false', region: '' }),
    ),
  );
  await p.put(
    'year=2025/month=04/day=02/manual-b.csv',
    csv(row({ timestamp: '2025-04-02T12:00:00Z', currency: 'USD', user_id: '7002', credit_usage: '0.5' })),
  );
  await p.put('year=2025/month=04/day=03/missing.csv', 'timestamp,user_id\n2025-04-03T00:00:00Z,1\n');
}

/** The second input: a corrected re-upload, a new day, and a fixed version of the rejected file. */
export async function seedSecondInput(p: TestPipeline): Promise<void> {
  await p.put(
    'year=2025/month=04/day=02/manual-a.csv',
    csv(
      row({ timestamp: '2025-04-02T10:00:00Z', currency: 'EUR', user_id: '7001', credit_usage: '3.25' }),
      row({ user_id: 'bad' }),
    ),
  );
  await p.put(
    'year=2025/month=04/day=05/late.csv',
    csv(row({ timestamp: '2025-04-05T08:00:00Z', currency: 'JPY', credit_usage: '1000' })),
  );
  await p.put(
    'year=2025/month=04/day=03/missing.csv',
    csv(row({ timestamp: '2025-04-03T09:00:00Z', currency: 'GBP', user_id: '7003' })),
  );
}
