import { createHash } from 'node:crypto';
import type { AssetContext, AssetResult } from '../../orchestrator/asset.js';
import { type SqlDialect, sqlDialect } from '../../warehouse/dialect.js';
import type { SqlSession } from '../../warehouse/warehouse.js';
import { ident } from '../../warehouse/warehouse.js';
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
import {
  allEvents,
  CREATE_MERGE_STATE,
  changedDayEvents,
  DELETE_MERGE_STATE_VERSION,
  INSERT_MERGE_STATE_VERSION,
  MERGE_STATE_LOCK,
  MERGE_STATE_VERSION,
  type MergeProbe,
  mergeSql,
} from './merge-sql.js';

/**
 * Setup of a merged aggregate's state tables (see merge-sql.ts). The state's shape is recorded as
 * a version (a hash of its DDL): one lookup per run when nothing changed. A warehouse without it
 * (new, or from before merging) or with another (the state's definition changed) cannot trust its
 * state: the tables are made anew, the table emptied and the cursor dropped, so the next
 * materialization builds everything from the events. Runs inside the asset's setup transaction.
 * Returns whether the state was reset.
 */
export async function migrateMergeState(
  tx: SqlSession,
  def: AggregateDefinition,
  merge: MergePlan,
  dialect: SqlDialect,
): Promise<boolean> {
  const sql = mergeSql(def, merge);
  const version = createHash('sha256')
    .update([...sql.state.map((t) => `${t.name}(${t.columns})`), ...sql.indexes].join(';'))
    .digest('hex')
    .slice(0, 16);
  // PostgreSQL's catalog can collide on CREATE … IF NOT EXISTS from two workers at once.
  await tx.lock(MERGE_STATE_LOCK);
  await tx.exec(CREATE_MERGE_STATE);
  const [stored] = await tx.all<{ version: string }>(MERGE_STATE_VERSION, [def.name]);
  if (stored?.version === version) return false;
  for (const table of sql.state) {
    await tx.exec(`DROP TABLE IF EXISTS ${ident(table.name)}`);
    await tx.exec(`CREATE TABLE ${ident(table.name)} (${table.columns})`);
  }
  // Created with the tables only: PostgreSQL's CREATE INDEX IF NOT EXISTS locks even when it exists.
  for (const statement of dialect.lookupIndexes(sql.indexes)) await tx.exec(statement);
  for (const statement of sql.clear) await tx.exec(statement);
  await tx.exec('DELETE FROM asset_cursors WHERE asset = $1', [def.name]);
  await tx.exec(DELETE_MERGE_STATE_VERSION, [def.name]);
  await tx.exec(INSERT_MERGE_STATE_VERSION, [def.name, version]);
  return true;
}

/**
 * One merge in one transaction under the asset's lock: the changed days' partials replace their
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
    // Only the tables the statements read: the merge SQL names them only when they have rows.
    await fillPartitionTables(tx, withheld, p.toggled, { onlyNonEmpty: true });
    if (p.full) {
      for (const statement of sql.clear) await tx.exec(statement);
      for (const statement of sql.build(allEvents(withheld.length > 0))) await tx.exec(statement);
      const [count] = await tx.all<{ n: number }>(sql.countBuilt);
      groups = Number(count?.n ?? 0);
    } else {
      const range = ctx.range;
      await tx.exec(sql.collectDays({ range: range !== null, toggled: p.toggled.length > 0 }), [
        p.cursor.change ?? 0,
        p.latest,
        ...(range === null ? [] : [range.from, range.to]),
      ]);
      // PostgreSQL would guess the temp table's size and scan the state instead of its day index.
      for (const statement of sqlDialect(ctx.warehouse.dialect).refreshStatistics('merge_days')) {
        await tx.exec(statement);
      }
      for (const statement of sql.merge(changedDayEvents(withheld.length > 0))) await tx.exec(statement);
      const [found] = await tx.all<{
        keys: number;
        shrunk: number;
        lost_extremes: number;
        removed_values: number;
        new_keys: number;
        new_values: number;
      }>(sql.probe);
      const probe: MergeProbe = {
        keys: Number(found?.keys ?? 0),
        shrunk: Number(found?.shrunk ?? 0) > 0,
        lostExtremes: Number(found?.lost_extremes ?? 0) > 0,
        removedValues: Number(found?.removed_values ?? 0) > 0,
        newKeys: Number(found?.new_keys ?? 0) > 0,
        newValues: Number(found?.new_values ?? 0) > 0,
      };
      groups = probe.keys;
      for (const statement of sql.apply(probe)) await tx.exec(statement);
      for (const statement of sql.finish) await tx.exec(statement);
      await tx.exec(sql.dropTemps);
    }
    await dropPartitionTables(tx, { withheld, toggled: p.toggled, onlyNonEmpty: true });
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
