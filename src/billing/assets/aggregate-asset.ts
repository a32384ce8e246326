import type {
  AssetContext,
  AssetDefinition,
  AssetResult,
  PartitionMaterialization,
} from '../../orchestrator/asset.js';
import { sqlDialect } from '../../warehouse/dialect.js';
import type { Cell, Warehouse } from '../../warehouse/warehouse.js';
import type { AggregateDefinition } from '../aggregates/aggregate-definition.js';
import {
  assetLock,
  dayLock,
  dropPartitionTables,
  fillPartitionTables,
  formatCursor,
  type Plan,
  parseAggregateCursor,
  plan,
  upToDateResult,
} from '../aggregates/aggregate-plan.js';
import { materializeMerged, migrateMergeState } from '../aggregates/merge-materialize.js';
import {
  AFFECTED_DAYS,
  type AggregateSql,
  aggregateSql,
  allDays,
  type DaySql,
  probeColumns,
} from '../sql/aggregate-sql.js';
import { CHANGE_LOG_LOCK, PRUNE_CHANGES } from '../sql/events.js';

export { assetLock, dayLock, parseAggregateCursor } from '../aggregates/aggregate-plan.js';

/**
 * The change-log head every change at or below which is committed: taking the lock exclusive waits
 * for the loads that hold a change id but have not committed, and ids come from a sequence, so
 * any load that commits later has a higher id. A short transaction: loads wait while it is held.
 */
export async function committedChangeHead(warehouse: Warehouse): Promise<number> {
  return warehouse.transaction(async (tx) => {
    await tx.lock(CHANGE_LOG_LOCK, 'exclusive');
    const [head] = await tx.all<{ max_id: number | null }>(
      'SELECT max(change_id) AS max_id FROM billing_event_changes',
    );
    return Number(head?.max_id ?? 0);
  });
}

/** The billing_events partitions this run must leave out, from the executor's check verdicts. */
function withheldPartitions(ctx: AssetContext): string[] {
  const days = (ctx.blockedUpstream ?? [])
    .filter((b) => b.asset === 'billing_events' && b.partition !== null)
    .map((b) => b.partition as string);
  return [...new Set(days)].sort();
}

/**
 * A table made by an older definition (e.g. before normalized totals) is rebuilt from scratch:
 * dropping its cursor makes the next materialization a full one. Under the asset's lock, as
 * several workers may set up at once and a rebuild must not run against a table being replaced.
 */
async function migrate(warehouse: Warehouse, def: AggregateDefinition, sql: AggregateSql): Promise<void> {
  await warehouse.transaction(async (tx) => {
    await tx.lock(assetLock(def.name));
    await tx.exec(sql.create);
    await tx.exec(sql.createProbe);
    const shape = async (table: string) =>
      (await tx.query(probeColumns(table))).columns.map((c) => `${c.name} ${c.type}`).join(', ');
    const [actual, expected] = [await shape(def.name), await shape(sql.probeName)];
    await tx.exec(`DROP TABLE "${sql.probeName}"`);
    if (actual !== expected) {
      await tx.exec(`DROP TABLE "${def.name}"`);
      await tx.exec(sql.create);
      await tx.exec('DELETE FROM asset_cursors WHERE asset = $1', [def.name]);
    }
    if (def.merge) await migrateMergeState(tx, def, def.merge, sqlDialect(warehouse.dialect));
  });
}

/**
 * Wraps an aggregate definition as an asset. Its cursor is the last change-log id it consumed;
 * the rebuild and the cursor move commit together under the asset's lock, so a crash leaves the
 * changes to the next run and two concurrent runs never move it backwards. Groups are rebuilt
 * from billing_events, never incremented, so a group rebuilt twice is still right. Aggregates
 * with a merge plan (whole-history ones) instead merge the changed days' partials into kept
 * state in that same transaction (merge-sql.ts): a replayed change re-derives the same cells.
 *
 * Aggregates keyed by the event day can also be rebuilt one day per task (`runTask`): in
 * scale-out mode `materialize` dispatches one task per affected day to the workers.
 */
export function aggregateAsset(def: AggregateDefinition, consumers: readonly string[]): AssetDefinition {
  const sql = aggregateSql(def);
  const daySql = sql.day;
  return {
    name: def.name,
    description: def.description,
    deps: ['billing_events'],
    partitioning: def.partitioning,
    group: 'aggregates',
    // Partitions of billing_events that failed error checks are left out of every group.
    onBlockedUpstream: 'exclude',
    async setup(warehouse) {
      await migrate(warehouse, def, sql);
    },
    async materialize(ctx) {
      const withheld = withheldPartitions(ctx);
      const head = await committedChangeHead(ctx.warehouse);
      // A first look without the lock: an aggregate with nothing to do takes no lock at all.
      if (plan(ctx, parseAggregateCursor(await ctx.getCursor()), head, withheld).upToDate) {
        return upToDateResult(withheld);
      }
      const result = def.merge
        ? await materializeMerged(ctx, def, def.merge, head, withheld)
        : ctx.dispatch && daySql
          ? await materializeByDay(ctx, def, daySql, head, withheld)
          : await materializeAtOnce(ctx, def, sql, head, withheld);
      if (!result.failure) await pruneChangeLog(ctx.warehouse, consumers);
      return result;
    },
    ...(daySql
      ? {
          async runTask(ctx, payload) {
            const day = String(payload.day);
            const withheldDays = Array.isArray(payload.withheld) ? payload.withheld.map(String) : [];
            return rebuildDay(ctx.warehouse, def.name, daySql, day, withheldDays);
          },
        }
      : {}),
  };
}

/** The embedded way (and any aggregate not keyed by day): one transaction for the whole rebuild. */
async function materializeAtOnce(
  ctx: AssetContext,
  def: AggregateDefinition,
  sql: AggregateSql,
  head: number,
  withheld: string[],
): Promise<AssetResult> {
  let partitions: PartitionMaterialization[] = [];
  let groups = 0;
  // Event days an incremental rebuild touched, for checks that follow the new data (reconciliation).
  const touched: { eventDays: string[] | null } = { eventDays: null };
  const done = await ctx.warehouse.transaction(async (tx) => {
    await tx.lock(assetLock(def.name));
    // Read again under the lock: another run may have moved the cursor since the first look.
    const p = plan(ctx, parseAggregateCursor(await ctx.getCursor()), head, withheld);
    if (p.upToDate) return null;
    await fillPartitionTables(tx, withheld, p.toggled);
    if (p.full) {
      await tx.exec(sql.collectAll);
    } else {
      await tx.exec(sql.collectAffected, [
        p.cursor.change ?? 0,
        p.latest,
        ctx.range?.from ?? null,
        ctx.range?.to ?? null,
      ]);
    }
    const [count] = await tx.all<{ n: number }>('SELECT count(*) AS n FROM affected_keys');
    groups = Number(count?.n ?? 0);
    await tx.exec(p.full ? sql.deleteAll : sql.deleteAffected);
    const held = withheld.length > 0;
    if (p.full) await tx.exec(held ? sql.insertAllWithheld : sql.insertAll);
    else await tx.exec(held ? sql.insertAffectedWithheld : sql.insertAffected);
    if (def.partitioning === 'daily') {
      const rows = await tx.all<{ partition: string; event_count: number }>(sql.affectedPartitions);
      partitions = rows.map((r) => ({
        partition: r.partition,
        rowCount: 1,
        metadata: { events: r.event_count },
      }));
    }
    if (sql.day !== null && !p.full) {
      const days = await tx.all<{ day: string }>(
        'SELECT DISTINCT CAST(event_date AS VARCHAR) AS day FROM affected_keys ORDER BY 1',
      );
      touched.eventDays = days.map((d) => d.day);
    }
    await ctx.setCursor(tx, formatCursor({ change: p.latest, withheld }));
    await tx.exec('DROP TABLE affected_keys');
    await dropPartitionTables(tx);
    return p;
  });
  if (done === null) return upToDateResult(withheld);
  if (def.partitioning === 'none') {
    partitions = [
      { partition: null, rowCount: groups, metadata: { groupsRebuilt: groups, full: done.full } },
    ];
  }
  ctx.log(
    `rebuilt ${groups} group(s) of ${def.name}${done.full ? ' (full)' : ''}` +
      (withheld.length > 0 ? `, without billing_events ${withheld.join(', ')}` : ''),
  );
  return {
    changed: groups > 0 || done.toggled.length > 0,
    partitions,
    metadata: {
      groupsRebuilt: groups,
      full: done.full,
      withheldPartitions: withheld.length,
      ...(touched.eventDays ? { eventDays: touched.eventDays } : {}),
    },
  };
}

/** Event days to rebuild: every day for a full rebuild, else those the plan's changes touch. */
async function affectedDays(
  ctx: AssetContext,
  def: AggregateDefinition,
  daySql: DaySql,
  p: Plan,
): Promise<string[]> {
  return ctx.warehouse.transaction(async (tx) => {
    let rows: { day: string }[];
    if (p.full) {
      rows = await tx.all<{ day: string }>(allDays(def.name, daySql.dayColumn));
    } else {
      await fillPartitionTables(tx, [], p.toggled);
      rows = await tx.all<{ day: string }>(AFFECTED_DAYS, [
        p.cursor.change ?? 0,
        p.latest,
        ctx.range?.from ?? null,
        ctx.range?.to ?? null,
      ]);
      await dropPartitionTables(tx);
    }
    return rows.map((r) => r.day);
  });
}

/**
 * Scale-out: one task per affected day, spread over the workers; the cursor moves only when every
 * task succeeded, so a failed day is redone by the next run (tasks are idempotent rebuilds).
 */
async function materializeByDay(
  ctx: AssetContext,
  def: AggregateDefinition,
  daySql: DaySql,
  head: number,
  withheld: string[],
): Promise<AssetResult> {
  const dispatch = ctx.dispatch as NonNullable<AssetContext['dispatch']>;
  const p = plan(ctx, parseAggregateCursor(await ctx.getCursor()), head, withheld);
  const days = await affectedDays(ctx, def, daySql, p);
  const outcomes =
    days.length === 0
      ? []
      : await dispatch(days.map((day) => ({ key: `day:${day}`, payload: { day, withheld } })));
  const failed = outcomes.filter((o) => o.status !== 'success');
  const succeeded = outcomes.filter((o) => o.status === 'success' && o.result !== null);
  const groups = succeeded.reduce((n, o) => n + Number(o.result?.groups ?? 0), 0);
  const partitions: PartitionMaterialization[] =
    def.partitioning === 'daily'
      ? succeeded.map((o) => ({
          partition: String(o.result?.day),
          rowCount: 1,
          metadata: { events: o.result?.events ?? 0 },
        }))
      : [{ partition: null, rowCount: groups, metadata: { groupsRebuilt: groups, full: p.full } }];
  const metadata = {
    groupsRebuilt: groups,
    full: p.full,
    withheldPartitions: withheld.length,
    days: days.length,
    ...(p.full ? {} : { eventDays: days }),
  };
  if (failed.length > 0) {
    const sample = failed
      .slice(0, 3)
      .map((o) => `${o.key}: ${o.error ?? 'failed'}`)
      .join('; ');
    return {
      changed: succeeded.length > 0,
      partitions,
      metadata,
      failure: `${failed.length} of ${days.length} day task(s) failed, the cursor stays for the next run: ${sample}`,
    };
  }
  await ctx.warehouse.transaction(async (tx) => {
    await tx.lock(assetLock(def.name));
    // Another run may have moved the cursor further meanwhile: never move it back.
    const now = parseAggregateCursor(await ctx.getCursor());
    const change = Math.max(p.latest, now.change ?? 0);
    await ctx.setCursor(tx, formatCursor({ change, withheld }));
  });
  ctx.log(
    `rebuilt ${days.length} day(s) of ${def.name} in ${days.length} task(s)${p.full ? ' (full)' : ''}` +
      (withheld.length > 0 ? `, without billing_events ${withheld.join(', ')}` : ''),
  );
  return { changed: days.length > 0 || p.toggled.length > 0, partitions, metadata };
}

/**
 * One day of a day-keyed aggregate, rebuilt from billing_events in one transaction: idempotent, so
 * a task that runs twice (a worker died after committing) leaves the same rows.
 */
export async function rebuildDay(
  warehouse: Warehouse,
  name: string,
  daySql: DaySql,
  day: string,
  withheld: readonly string[],
): Promise<Record<string, Cell>> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a day: ${day}`);
  return warehouse.transaction(async (tx) => {
    await tx.lock(assetLock(name), 'shared');
    await tx.lock(dayLock(name, day));
    await fillPartitionTables(tx, withheld, []);
    await tx.exec(daySql.deleteDay, [day]);
    await tx.exec(withheld.length > 0 ? daySql.insertDayWithheld : daySql.insertDay, [day]);
    const [counts] = await tx.all<{ groups: number; events: number }>(daySql.dayCounts, [day]);
    await dropPartitionTables(tx);
    return { day, groups: Number(counts?.groups ?? 0), events: Number(counts?.events ?? 0) };
  });
}

/**
 * Drops change-log rows that every aggregate has consumed. Safe beside concurrent runs: cursors
 * only move forward, so the minimum read here only grows.
 */
async function pruneChangeLog(warehouse: Warehouse, consumers: readonly string[]): Promise<void> {
  const rows = await warehouse.all<{ cursor: string }>(
    `SELECT cursor FROM asset_cursors WHERE asset IN (${consumers.map((_, i) => `$${i + 1}`).join(', ')})`,
    consumers,
  );
  if (rows.length < consumers.length) return;
  const low = Math.min(...rows.map((r) => parseAggregateCursor(r.cursor).change ?? 0));
  await warehouse.exec(PRUNE_CHANGES, [low]);
}
