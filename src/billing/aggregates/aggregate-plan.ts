import type { AssetContext, AssetResult } from '../../orchestrator/asset.js';
import type { SqlSession } from '../../warehouse/warehouse.js';
import {
  CREATE_PARTITION_TABLE,
  INSERT_PARTITION,
  PARTITION_TABLES,
  partitionParams,
} from '../sql/aggregate-sql.js';

/**
 * An aggregate's cursor: the last change-log id it consumed and the billing_events partitions it
 * left out (failed error checks). Older warehouses stored just the number.
 */
export interface AggregateCursor {
  change: number | null;
  withheld: string[];
}

export function parseAggregateCursor(text: string | null): AggregateCursor {
  if (text === null) return { change: null, withheld: [] };
  if (/^\d+$/.test(text)) return { change: Number(text), withheld: [] };
  const parsed = JSON.parse(text) as { change?: number; withheld?: string[] };
  return { change: parsed.change ?? null, withheld: parsed.withheld ?? [] };
}

export function formatCursor(cursor: AggregateCursor): string {
  return cursor.withheld.length === 0 ? String(cursor.change ?? 0) : JSON.stringify(cursor);
}

/**
 * Lock names. `asset:<name>` (exclusive) serializes whole rebuilds and cursor moves of one
 * aggregate; a day task holds it shared plus `asset:<name>:<day>` exclusive, so tasks of different
 * days run in parallel while a whole rebuild, or another task of the same day, waits.
 */
export const assetLock = (name: string) => `asset:${name}`;
export const dayLock = (name: string, day: string) => `asset:${name}:${day}`;

/** What a materialization has to do, from the cursor, the change-log head and the run's request. */
export interface Plan {
  cursor: AggregateCursor;
  /** The change id the cursor moves to: never below where it is. */
  latest: number;
  withheld: string[];
  toggled: string[];
  full: boolean;
  upToDate: boolean;
}

export function plan(ctx: AssetContext, cursor: AggregateCursor, head: number, withheld: string[]): Plan {
  const latest = Math.max(head, cursor.change ?? 0);
  const toggled = [
    ...withheld.filter((d) => !cursor.withheld.includes(d)),
    ...cursor.withheld.filter((d) => !withheld.includes(d)),
  ];
  // A first materialization (e.g. a newly added aggregate) builds from all events: the change
  // log only covers loads since the last consumer caught up.
  const full = ctx.fullRefresh || cursor.change === null;
  const upToDate = !full && latest === cursor.change && ctx.range === null && toggled.length === 0;
  return { cursor, latest, withheld, toggled, full, upToDate };
}

export const upToDateResult = (withheld: readonly string[]): AssetResult => ({
  changed: false,
  partitions: [],
  metadata: { groupsRebuilt: 0, full: false, withheldPartitions: withheld.length },
});

/**
 * With `onlyNonEmpty`, a table without rows is not made at all (a caller whose SQL names each table
 * only when it has rows): two statements fewer each way on a run that holds nothing back.
 */
export async function fillPartitionTables(
  tx: SqlSession,
  withheld: readonly string[],
  toggled: readonly string[],
  options: { onlyNonEmpty?: boolean } = {},
) {
  const [withheldTable, toggledTable] = PARTITION_TABLES;
  for (const [table, days] of [
    [withheldTable, withheld],
    [toggledTable, toggled],
  ] as const) {
    if (options.onlyNonEmpty && days.length === 0) continue;
    await tx.exec(CREATE_PARTITION_TABLE(table));
    for (const day of days) await tx.exec(INSERT_PARTITION(table), partitionParams(day));
  }
}

/** Drops what `fillPartitionTables` made: pass the same days and options it had. */
export async function dropPartitionTables(
  tx: SqlSession,
  made: { withheld: readonly string[]; toggled: readonly string[]; onlyNonEmpty?: boolean } | null = null,
) {
  const [withheldTable, toggledTable] = PARTITION_TABLES;
  for (const [table, days] of [
    [withheldTable, made?.withheld ?? []],
    [toggledTable, made?.toggled ?? []],
  ] as const) {
    if (made?.onlyNonEmpty && days.length === 0) continue;
    await tx.exec(`DROP TABLE ${table}`);
  }
}
