import type { AssetDefinition, PartitionMaterialization } from '../../orchestrator/asset.js';
import type { AggregateDefinition } from '../aggregates/aggregate-definition.js';
import { aggregateSql } from '../sql/aggregate-sql.js';
import { PRUNE_CHANGES } from '../sql/events.js';

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
    async setup(warehouse) {
      await warehouse.exec(sql.create);
    },
    async materialize(ctx) {
      const cursorText = await ctx.getCursor();
      const [head] = await ctx.warehouse.all<{ max_id: number | null }>(
        'SELECT max(change_id) AS max_id FROM billing_event_changes',
      );
      const cursor = cursorText === null ? null : Number(cursorText);
      const latest = Math.max(head?.max_id ?? 0, cursor ?? 0);
      // A first materialization (e.g. a newly added aggregate) builds from all events: the change
      // log only covers loads since the last consumer caught up.
      const full = ctx.fullRefresh || cursor === null;
      if (!full && latest === cursor && ctx.range === null) {
        return { changed: false, partitions: [], metadata: { groupsRebuilt: 0, full: false } };
      }
      let partitions: PartitionMaterialization[] = [];
      let groups = 0;
      await ctx.warehouse.transaction(async (tx) => {
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
        await ctx.setCursor(tx, String(latest));
        await tx.exec('DROP TABLE affected_keys');
      });
      if (def.partitioning === 'none') {
        partitions = [{ partition: null, rowCount: groups, metadata: { groupsRebuilt: groups, full } }];
      }
      await pruneChangeLog(ctx.warehouse, consumers);
      ctx.log(`rebuilt ${groups} group(s) of ${def.name}${full ? ' (full)' : ''}`);
      return { changed: groups > 0, partitions, metadata: { groupsRebuilt: groups, full } };
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
  const low = Math.min(...rows.map((r) => Number(r.cursor)));
  await warehouse.exec(PRUNE_CHANGES, [low]);
}
