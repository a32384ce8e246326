import type { Warehouse } from './warehouse.js';

/**
 * Day partitions of a table made with `SqlDialect.partitionByDay` (PostgreSQL declarative RANGE
 * partitioning on year, month, day columns; DuckDB tables are not partitioned: nothing to do).
 *
 * A partition is created on demand, before the load transaction that needs it, in its own short
 * transaction under the lock `partitions:<table>`, so concurrent workers never race on one day. It
 * is created as a plain table and then ATTACHed: ATTACH PARTITION takes SHARE UPDATE EXCLUSIVE on
 * the parent, which lets other workers' loads and all reads go on, where CREATE TABLE … PARTITION
 * OF would take ACCESS EXCLUSIVE and stall every reader and writer of the table meanwhile. There is
 * no DEFAULT partition: it would make every later ATTACH scan it under lock, and fail once it held a
 * row of the new day; a load whose partition is missing fails loudly instead, and its retry creates it.
 */

const known = new WeakMap<Warehouse, Set<string>>();

/** The partition table of one day: `billing_events_20250423`. */
export function dayPartitionName(table: string, day: string): string {
  return `${table}_${day.replaceAll('-', '')}`;
}

const ATTACHED = `SELECT c.relname AS name FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1)`;

/** Makes sure `table` has a partition for each `YYYY-MM-DD` in `days`. */
export async function ensureDayPartitions(
  warehouse: Warehouse,
  table: string,
  days: readonly string[],
): Promise<void> {
  if (warehouse.dialect !== 'postgres' || days.length === 0) return;
  const cache = known.get(warehouse) ?? new Set<string>();
  known.set(warehouse, cache);
  const wanted = [...new Set(days)].filter((d) => !cache.has(dayPartitionName(table, d)));
  if (wanted.length === 0) return;
  const attached = async (session: Pick<Warehouse, 'all'>) =>
    new Set((await session.all<{ name: string }>(ATTACHED, [table])).map((r) => r.name));
  // Most days exist already (other files of the day, other workers): look before taking the lock.
  let present = await attached(warehouse);
  let missing = wanted.filter((d) => !present.has(dayPartitionName(table, d)));
  if (missing.length > 0) {
    await warehouse.transaction(async (tx) => {
      await tx.lock(`partitions:${table}`);
      present = await attached(tx);
      missing = missing.filter((d) => !present.has(dayPartitionName(table, d)));
      for (const day of missing.sort()) {
        const name = dayPartitionName(table, day);
        const [y, m, d] = day.split('-').map(Number);
        // LIKE … INCLUDING ALL copies the columns, NOT NULLs and the parent's indexes, so ATTACH
        // adopts the indexes instead of building new ones.
        await tx.exec(`CREATE TABLE IF NOT EXISTS "${name}" (LIKE "${table}" INCLUDING ALL)`);
        await tx.exec(
          `ALTER TABLE "${table}" ATTACH PARTITION "${name}" FOR VALUES FROM (${y}, ${m}, ${d}) TO (${y}, ${m}, ${Number(d) + 1})`,
        );
      }
    });
  }
  for (const d of wanted) cache.add(dayPartitionName(table, d));
}
