import type { AssetContext, AssetDefinition, PartitionMaterialization } from '../../orchestrator/asset.js';
import type { SqlSession, Warehouse } from '../../warehouse/warehouse.js';
import type { AggregateDefinition } from '../aggregates/aggregate-definition.js';
import {
  type AggregateSql,
  aggregateSql,
  CREATE_PARTITION_TABLE,
  INSERT_PARTITION,
  PARTITION_TABLES,
  TABLE_COLUMNS,
} from '../sql/aggregate-sql.js';
import { PRUNE_CHANGES } from '../sql/events.js';

/**
 * An aggregate's cursor: the last change-log id it consumed and the billing_events partitions it
 * left out (failed error checks). Older warehouses stored just the number.
 */
interface AggregateCursor {
  change: number | null;
  withheld: string[];
}

export function parseAggregateCursor(text: string | null): AggregateCursor {
  if (text === null) return { change: null, withheld: [] };
  if (/^\d+$/.test(text)) return { change: Number(text), withheld: [] };
  const parsed = JSON.parse(text) as { change?: number; withheld?: string[] };
  return { change: parsed.change ?? null, withheld: parsed.withheld ?? [] };
}

function formatCursor(cursor: AggregateCursor): string {
  return cursor.withheld.length === 0 ? String(cursor.change ?? 0) : JSON.stringify(cursor);
}

/** The billing_events partitions this run must leave out, from the executor's check verdicts. */
function withheldPartitions(ctx: AssetContext): string[] {
  const days = (ctx.blockedUpstream ?? [])
    .filter((b) => b.asset === 'billing_events' && b.partition !== null)
    .map((b) => b.partition as string);
  return [...new Set(days)].sort();
}

async function fillPartitionTables(tx: SqlSession, withheld: readonly string[], toggled: readonly string[]) {
  const [withheldTable, toggledTable] = PARTITION_TABLES;
  for (const [table, days] of [
    [withheldTable, withheld],
    [toggledTable, toggled],
  ] as const) {
    await tx.exec(CREATE_PARTITION_TABLE(table));
    for (const day of days) await tx.exec(INSERT_PARTITION(table), [day]);
  }
}

/**
 * A table made by an older definition (e.g. before normalized totals) is rebuilt from scratch:
 * dropping its cursor makes the next materialization a full one.
 */
async function migrate(warehouse: Warehouse, def: AggregateDefinition, sql: AggregateSql): Promise<void> {
  await warehouse.transaction(async (tx) => {
    await tx.exec(sql.create);
    await tx.exec(sql.createProbe);
    const columns = await tx.all<{ table_name: string; column_name: string; data_type: string }>(
      TABLE_COLUMNS,
      [def.name, sql.probeName],
    );
    await tx.exec(`DROP TABLE "${sql.probeName}"`);
    const shape = (table: string) =>
      columns
        .filter((c) => c.table_name === table)
        .map((c) => `${c.column_name} ${c.data_type}`)
        .join(', ');
    if (shape(def.name) === shape(sql.probeName)) return;
    await tx.exec(`DROP TABLE "${def.name}"`);
    await tx.exec(sql.create);
    await tx.exec('DELETE FROM asset_cursors WHERE asset = $1', [def.name]);
  });
}

/**
 * Wraps an aggregate definition as an asset. Its cursor is the last change-log id it consumed;
 * the rebuild and the cursor move commit together, so a crash leaves the changes to the next run.
 */
export function aggregateAsset(def: AggregateDefinition, consumers: readonly string[]): AssetDefinition {
  const sql = aggregateSql(def);
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
      const state = parseAggregateCursor(await ctx.getCursor());
      const [head] = await ctx.warehouse.all<{ max_id: number | null }>(
        'SELECT max(change_id) AS max_id FROM billing_event_changes',
      );
      const cursor = state.change;
      const latest = Math.max(head?.max_id ?? 0, cursor ?? 0);
      const withheld = withheldPartitions(ctx);
      const toggled = [
        ...withheld.filter((d) => !state.withheld.includes(d)),
        ...state.withheld.filter((d) => !withheld.includes(d)),
      ];
      // A first materialization (e.g. a newly added aggregate) builds from all events: the change
      // log only covers loads since the last consumer caught up.
      const full = ctx.fullRefresh || cursor === null;
      if (!full && latest === cursor && ctx.range === null && toggled.length === 0) {
        return {
          changed: false,
          partitions: [],
          metadata: { groupsRebuilt: 0, full: false, withheldPartitions: withheld.length },
        };
      }
      let partitions: PartitionMaterialization[] = [];
      let groups = 0;
      await ctx.warehouse.transaction(async (tx) => {
        await fillPartitionTables(tx, withheld, toggled);
        if (full) {
          await tx.exec(sql.collectAll);
        } else {
          await tx.exec(sql.collectAffected, [
            cursor ?? 0,
            latest,
            ctx.range?.from ?? null,
            ctx.range?.to ?? null,
          ]);
        }
        const [count] = await tx.all<{ n: number }>('SELECT count(*) AS n FROM affected_keys');
        groups = count?.n ?? 0;
        await tx.exec(full ? sql.deleteAll : sql.deleteAffected);
        await tx.exec(full ? sql.insertAll : sql.insertAffected);
        if (def.partitioning === 'daily') {
          const rows = await tx.all<{ partition: string; event_count: number }>(sql.affectedPartitions);
          partitions = rows.map((r) => ({
            partition: r.partition,
            rowCount: 1,
            metadata: { events: r.event_count },
          }));
        }
        await ctx.setCursor(tx, formatCursor({ change: latest, withheld }));
        await tx.exec('DROP TABLE affected_keys');
        for (const table of PARTITION_TABLES) await tx.exec(`DROP TABLE ${table}`);
      });
      if (def.partitioning === 'none') {
        partitions = [{ partition: null, rowCount: groups, metadata: { groupsRebuilt: groups, full } }];
      }
      await pruneChangeLog(ctx.warehouse, consumers);
      ctx.log(
        `rebuilt ${groups} group(s) of ${def.name}${full ? ' (full)' : ''}` +
          (withheld.length > 0 ? `, without billing_events ${withheld.join(', ')}` : ''),
      );
      return {
        changed: groups > 0 || toggled.length > 0,
        partitions,
        metadata: { groupsRebuilt: groups, full, withheldPartitions: withheld.length },
      };
    },
  };
}

/** Drops change-log rows that every aggregate has consumed. */
async function pruneChangeLog(
  warehouse: Parameters<NonNullable<AssetDefinition['setup']>>[0],
  consumers: readonly string[],
): Promise<void> {
  const rows = await warehouse.all<{ cursor: string }>(
    `SELECT cursor FROM asset_cursors WHERE asset IN (${consumers.map((_, i) => `$${i + 1}`).join(', ')})`,
    consumers,
  );
  if (rows.length < consumers.length) return;
  const low = Math.min(...rows.map((r) => parseAggregateCursor(r.cursor).change ?? 0));
  await warehouse.exec(PRUNE_CHANGES, [low]);
}
