import type { AssetContext, AssetResult } from '../../orchestrator/asset.js';
import type { SqlSession } from '../../warehouse/warehouse.js';
import { ident } from '../../warehouse/warehouse.js';
import { probeColumns } from '../sql/aggregate-sql.js';
import type { AggregateDefinition, MergePlan } from './aggregate-definition.js';
import {
  assetLock,
  dropPartitionTables,
  fillPartitionTables,
  formatCursor,
  parseAggregateCursor,
  plan,
  upToDateResult,
} from './aggregate-plan.js';
import { allEvents, changedDayEvents, mergeSql } from './merge-sql.js';

/**
 * Setup of a merged aggregate's state tables (see merge-sql.ts). A missing state table, or one of
 * an older shape, means the state cannot be trusted: all of it is emptied and the cursor dropped,
 * so the next materialization rebuilds it in full. Runs inside the asset's setup transaction.
 * Returns whether the state was reset.
 */
export async function migrateMergeState(
  tx: SqlSession,
  def: AggregateDefinition,
  merge: MergePlan,
): Promise<boolean> {
  const sql = mergeSql(def, merge);
  let reset = false;
  for (const table of sql.state) {
    const [found] = await tx.all<{ n: number }>(
      'SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $1',
      [table.name],
    );
    const probe = `${table.name}__expected`;
    await tx.exec(`CREATE TEMP TABLE ${ident(probe)} (${table.columns})`);
    const shape = async (name: string) =>
      (await tx.query(probeColumns(name))).columns.map((c) => `${c.name} ${c.type}`).join(', ');
    const same = Number(found?.n ?? 0) > 0 && (await shape(table.name)) === (await shape(probe));
    await tx.exec(`DROP TABLE ${ident(probe)}`);
    if (same) continue;
    reset = true;
    await tx.exec(`DROP TABLE IF EXISTS ${ident(table.name)}`);
    await tx.exec(`CREATE TABLE ${ident(table.name)} (${table.columns})`);
  }
  if (reset) {
    for (const statement of sql.clear) await tx.exec(statement);
    await tx.exec('DELETE FROM asset_cursors WHERE asset = $1', [def.name]);
  }
  return reset;
}

/**
 * One merge in one transaction under the asset's lock: the changed cells' partials replace their
 * old ones, the totals take the difference, the changed keys' rows are rewritten, the cursor moves.
 */
export async function materializeMerged(
  ctx: AssetContext,
  def: AggregateDefinition,
  merge: MergePlan,
  head: number,
  withheld: string[],
): Promise<AssetResult> {
  const sql = mergeSql(def, merge);
  let groups = 0;
  const done = await ctx.warehouse.transaction(async (tx) => {
    await tx.lock(assetLock(def.name));
    // Read again under the lock: another run may have moved the cursor since the first look.
    const p = plan(ctx, parseAggregateCursor(await ctx.getCursor()), head, withheld);
    if (p.upToDate) return null;
    await fillPartitionTables(tx, withheld, p.toggled);
    if (p.full) {
      for (const statement of sql.clear) await tx.exec(statement);
      for (const statement of sql.build(allEvents(withheld.length > 0))) await tx.exec(statement);
    } else {
      const range = ctx.range;
      await tx.exec(sql.collectDays({ range: range !== null, toggled: p.toggled.length > 0 }), [
        p.cursor.change ?? 0,
        p.latest,
        ...(range === null ? [] : [range.from, range.to]),
      ]);
      for (const statement of sql.merge(changedDayEvents(withheld.length > 0))) await tx.exec(statement);
    }
    const [count] = await tx.all<{ n: number }>(sql.countKeys);
    groups = Number(count?.n ?? 0);
    for (const statement of sql.finish) await tx.exec(statement);
    for (const statement of sql.dropTemps) await tx.exec(statement);
    await dropPartitionTables(tx);
    await ctx.setCursor(tx, formatCursor({ change: p.latest, withheld }));
    return p;
  });
  if (done === null) return upToDateResult(withheld);
  ctx.log(
    `merged ${groups} group(s) of ${def.name}${done.full ? ' (full)' : ''}` +
      (withheld.length > 0 ? `, without billing_events ${withheld.join(', ')}` : ''),
  );
  return {
    changed: groups > 0 || done.toggled.length > 0,
    partitions: [{ partition: null, rowCount: groups, metadata: { groupsRebuilt: groups, full: done.full } }],
    metadata: { groupsRebuilt: groups, full: done.full, withheldPartitions: withheld.length, merged: true },
  };
}
