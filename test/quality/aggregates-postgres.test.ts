import { afterEach, describe, expect, it } from 'vitest';
import { AGGREGATES } from '../../src/billing/aggregates/index.js';
import { aggregateAsset, parseAggregateCursor } from '../../src/billing/assets/aggregate-asset.js';
import { billingTables } from '../../src/billing/sql/tables.js';
import type { AssetContext, AssetDefinition, AssetTask, TaskOutcome } from '../../src/orchestrator/asset.js';
import { ensureDayPartitions } from '../../src/warehouse/day-partitions.js';
import { sqlDialect } from '../../src/warehouse/dialect.js';
import { PostgresWarehouse } from '../../src/warehouse/postgres/postgres-warehouse.js';
import type { Row, Warehouse } from '../../src/warehouse/warehouse.js';
import { createDatabase, postgresPerFile } from '../support/postgres.js';

/**
 * The aggregates on real PostgreSQL with several connections at once (as scale-out workers are):
 * day tasks dispatched over three warehouses build the same tables as one transaction does, and
 * concurrent runs neither lose nor double a change.
 */

const postgres = postgresPerFile();
const withPostgres = postgres.available;
const open: Warehouse[] = [];
const drops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
  for (const drop of drops.splice(0)) await drop();
});

const NAMES = AGGREGATES.map((d) => d.name);
const assets = AGGREGATES.map((def) => aggregateAsset(def, NAMES));
const byName = (name: string) => assets.find((a) => a.name === name) as AssetDefinition;
const DAY_KEYED = AGGREGATES.filter((d) => d.keys[0]?.column === 'event_date').map((d) => d.name);
const DAYS = ['2025-04-20', '2025-04-21', '2025-04-22', '2025-04-23'];

/** `workers` warehouses on one fresh database, with the billing tables and a cursor table. */
async function warehouses(workers: number): Promise<Warehouse[]> {
  const db = await createDatabase(postgres.server());
  drops.push(db.drop);
  const list: Warehouse[] = [];
  for (let i = 0; i < workers; i++) list.push(await PostgresWarehouse.open({ url: db.url }));
  open.push(...list);
  const [main] = list as [Warehouse];
  for (const statement of billingTables(sqlDialect('postgres'))) await main.exec(statement);
  await main.exec(`CREATE TABLE IF NOT EXISTS asset_cursors (
    asset VARCHAR NOT NULL, cursor VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL)`);
  await ensureDayPartitions(main, 'billing_events', DAYS);
  for (const asset of assets) await asset.setup?.(main);
  return list;
}

/**
 * Loads `count` events of `source` spread over DAYS (users and regions shared between days and
 * sources), as an ingest does: the rows and their change-log keys in one transaction.
 */
async function load(w: Warehouse, source: string, count: number, seed: number): Promise<void> {
  await w.transaction(async (tx) => {
    await tx.lock('change-log', 'shared');
    const [id] = await tx.all<{ id: number }>("SELECT nextval('billing_change_seq') AS id");
    await tx.exec('DELETE FROM billing_events WHERE source_key = $1', [source]);
    await tx.exec(
      `INSERT INTO billing_events SELECT
        TIMESTAMP '2025-04-20 00:00:00' + (i % 4) * INTERVAL '1 day' + (i * 37 % 86400) * INTERVAL '1 second',
        'res-' || (i % 7), 1 + (i * $2) % 13, CAST(((i * 7919 + $2) % 100000) / 1000.0 - 5 AS DECIMAL(18,6)),
        (ARRAY['us-east-1', 'eu-west-1', NULL])[1 + (i + $2) % 3], (ARRAY['standard', 'premium'])[1 + i % 2],
        (ARRAY['compute', 'storage', 'network'])[1 + i % 3], i % 9 <> 0, 'vm', 'INV-' || i,
        (ARRAY['USD', 'EUR'])[1 + i % 2], 2025, 4, 20 + i % 4, DATE '2025-04-20' + i % 4, $1, i,
        CASE WHEN i % 11 = 0 AND $2 = 3 THEN NULL ELSE CAST(((i * 7919 + $2) % 100000) / 1000.0 - 5 AS DECIMAL(18,6)) END
      FROM generate_series(1, $3) g(i)`,
      [source, seed, count],
    );
    await tx.exec(
      `INSERT INTO billing_event_changes SELECT DISTINCT CAST($1 AS BIGINT), event_date, user_id, region,
        service_tier, resource_type, operation_type, currency FROM billing_events WHERE source_key = $2`,
      [id?.id ?? 0, source],
    );
  });
}

/** Removes a source's events, recording their keys as a corrected file's load would. */
async function unload(w: Warehouse, source: string): Promise<void> {
  await w.transaction(async (tx) => {
    await tx.lock('change-log', 'shared');
    const [id] = await tx.all<{ id: number }>("SELECT nextval('billing_change_seq') AS id");
    await tx.exec(
      `INSERT INTO billing_event_changes SELECT DISTINCT CAST($1 AS BIGINT), event_date, user_id, region,
        service_tier, resource_type, operation_type, currency FROM billing_events WHERE source_key = $2`,
      [id?.id ?? 0, source],
    );
    await tx.exec('DELETE FROM billing_events WHERE source_key = $1', [source]);
  });
}

const cursorOf = async (w: Warehouse, asset: string) =>
  (await w.all<{ cursor: string }>('SELECT cursor FROM asset_cursors WHERE asset = $1', [asset]))[0]
    ?.cursor ?? null;

/** Runs day tasks concurrently, round-robin over the workers' warehouses, as the job queue would. */
function dispatcher(asset: AssetDefinition, workers: readonly Warehouse[], failDay?: string) {
  return (tasks: readonly AssetTask[]): Promise<TaskOutcome[]> =>
    Promise.all(
      tasks.map(async (task, i) => {
        try {
          if (task.payload.day === failDay) throw new Error('worker lost');
          const result = await asset.runTask?.(
            {
              runId: 'test',
              asset: asset.name,
              warehouse: workers[i % workers.length] as Warehouse,
              signal: new AbortController().signal,
              log() {},
            },
            task.payload,
          );
          return { key: task.key, status: 'success' as const, result: result ?? null, error: null };
        } catch (error) {
          return { key: task.key, status: 'failed' as const, result: null, error: String(error) };
        }
      }),
    );
}

function context(
  asset: AssetDefinition,
  w: Warehouse,
  options: { full?: boolean; dispatch?: AssetContext['dispatch'] } = {},
): AssetContext {
  return {
    runId: 'test',
    asset: asset.name,
    warehouse: w,
    range: null,
    fullRefresh: options.full ?? false,
    upstreamChanged: true,
    signal: new AbortController().signal,
    log() {},
    progress() {},
    getCursor: () => cursorOf(w, asset.name),
    async setCursor(tx, value) {
      await tx.exec('DELETE FROM asset_cursors WHERE asset = $1', [asset.name]);
      await tx.exec('INSERT INTO asset_cursors VALUES ($1, $2, utc_now())', [asset.name, value]);
    },
    blockedUpstream: [],
    ...(options.dispatch ? { dispatch: options.dispatch } : {}),
  };
}

async function table(w: Warehouse, name: string): Promise<Row[]> {
  const def = AGGREGATES.find((d) => d.name === name);
  const keys = def?.keys.map((k) => `"${k.as}" NULLS FIRST`).join(', ');
  return w.all(`SELECT * FROM "${name}" ORDER BY ${keys}`);
}

/** What every aggregate must hold: a full rebuild from the events in one transaction. */
async function rebuiltFromScratch(w: Warehouse): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const asset of assets) {
    await w.exec('DELETE FROM asset_cursors WHERE asset = $1', [asset.name]);
    await asset.materialize(context(asset, w, { full: true }));
    out[asset.name] = await table(w, asset.name);
  }
  return out;
}

async function snapshot(w: Warehouse): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  for (const name of NAMES) out[name] = await table(w, name);
  return out;
}

describe.skipIf(!withPostgres)('aggregates on PostgreSQL', () => {
  it('builds the same tables from day tasks spread over three connections as in one transaction', async () => {
    const [main, ...workers] = await warehouses(4);
    const m = main as Warehouse;
    await load(m, 'a.csv', 400, 1);
    await load(m, 'b.csv', 300, 2);
    for (const asset of assets) await asset.materialize(context(asset, m));
    const atOnce = await snapshot(m);
    expect(atOnce.daily_aggregates).toHaveLength(4);
    expect(atOnce.user_daily_aggregates?.length).toBeGreaterThan(30);
    expect(DAY_KEYED).toEqual(['daily_aggregates', 'user_daily_aggregates', 'region_daily_aggregates']);

    // A full refresh through tasks, then incremental ones: a new source, a source withdrawn.
    for (const name of DAY_KEYED) {
      const asset = byName(name);
      const result = await asset.materialize(
        context(asset, m, { full: true, dispatch: dispatcher(asset, workers) }),
      );
      expect(result.failure).toBeUndefined();
      expect(result.metadata?.days).toBe(4);
    }
    expect(await snapshot(m)).toEqual(atOnce);

    await load(m, 'c.csv', 250, 3);
    await unload(m, 'a.csv');
    const head = Number(
      (await m.all<{ n: number }>('SELECT max(change_id) AS n FROM billing_event_changes'))[0]?.n,
    );
    for (const asset of assets) {
      const dispatch = DAY_KEYED.includes(asset.name) ? dispatcher(asset, workers) : undefined;
      const result = await asset.materialize(context(asset, m, { dispatch }));
      expect(result.changed).toBe(true);
      expect(parseAggregateCursor(await cursorOf(m, asset.name)).change).toBe(head);
    }
    const incremental = await snapshot(m);
    expect(incremental).toEqual(await rebuiltFromScratch(m));
    expect(incremental).not.toEqual(atOnce);
    const daily = await table(m, 'daily_aggregates');
    const [events] = await m.all<{ n: number }>('SELECT count(*) AS n FROM billing_events');
    expect(daily.reduce((n, r) => n + Number(r.event_count), 0)).toBe(events?.n);
  });

  it('keeps the cursor when a day task fails, and the next run redoes the work', async () => {
    const [main, ...workers] = await warehouses(3);
    const m = main as Warehouse;
    await load(m, 'a.csv', 200, 1);
    const asset = byName('daily_aggregates');
    await asset.materialize(context(asset, m));
    const before = await cursorOf(m, asset.name);
    await load(m, 'b.csv', 200, 2);

    const failed = await asset.materialize(
      context(asset, m, { dispatch: dispatcher(asset, workers, '2025-04-22') }),
    );
    expect(failed.failure).toMatch(/1 of 4 day task\(s\) failed.*day:2025-04-22: Error: worker lost/);
    expect(failed.partitions.map((p) => p.partition)).toEqual(['2025-04-20', '2025-04-21', '2025-04-23']);
    expect(await cursorOf(m, asset.name)).toBe(before);

    const retried = await asset.materialize(context(asset, m, { dispatch: dispatcher(asset, workers) }));
    expect(retried.failure).toBeUndefined();
    expect(retried.partitions).toHaveLength(4);
    expect(await cursorOf(m, asset.name)).not.toBe(before);
    const now = await table(m, 'daily_aggregates');
    expect(now).toEqual((await rebuiltFromScratch(m)).daily_aggregates);
  });

  it('loses and doubles nothing when runs on several connections rebuild shared users and regions while loads go on', async () => {
    const list = await warehouses(4);
    const m = list[0] as Warehouse;
    await load(m, 'seed.csv', 200, 1);
    for (const asset of assets) await asset.materialize(context(asset, m));
    // Loads and four concurrent runs of every aggregate (two by day tasks), interleaved.
    const runs = (round: number) =>
      list.flatMap((w, i) =>
        assets.map((asset) => {
          const dispatch =
            i % 2 === 1 && DAY_KEYED.includes(asset.name) ? dispatcher(asset, list) : undefined;
          return asset.materialize(context(asset, w, { dispatch })).then((r) => {
            if (r.failure) throw new Error(`${asset.name} round ${round}: ${r.failure}`);
          });
        }),
      );
    for (let round = 0; round < 3; round++) {
      await Promise.all([
        ...runs(round),
        load(list[round % 4] as Warehouse, `f${round}.csv`, 150, round + 2),
        round === 1 ? unload(list[3] as Warehouse, 'seed.csv') : Promise.resolve(),
      ]);
    }
    // One more pass catches up with loads that committed after a run read the head.
    await Promise.all(list.flatMap((w) => assets.map((asset) => asset.materialize(context(asset, w)))));
    // The change log is pruned once every aggregate consumed it: the sequence has the last id.
    const head = Number((await m.all<{ n: number }>('SELECT last_value AS n FROM billing_change_seq'))[0]?.n);
    const cursors = await m.all<{ asset: string; cursor: string }>('SELECT asset, cursor FROM asset_cursors');
    expect(cursors).toHaveLength(NAMES.length);
    for (const c of cursors) expect(parseAggregateCursor(c.cursor).change).toBe(head);
    const concurrent = await snapshot(m);
    expect(concurrent).toEqual(await rebuiltFromScratch(m));
    expect(concurrent.user_aggregates?.length).toBe(13);
  }, 120_000);
});
