import { sqlDialect } from '../warehouse/dialect.js';
import type { Cell, SqlSession, SqlValue, Warehouse } from '../warehouse/warehouse.js';
import * as sql from './automation-sql.js';
import { setupSchema } from './ledger.js';
import { timestampParam } from './ledger-sql.js';

export type InstigatorKind = 'sensor' | 'schedule';
export type TickOutcome = 'requested' | 'skipped' | 'failed';

export interface InstigatorState {
  name: string;
  kind: InstigatorKind;
  enabled: boolean;
  cursor: string | null;
}

/** One evaluation of a sensor or schedule, as the API shows it. */
export interface Tick {
  tick_id: number;
  started_at: string;
  finished_at: string | null;
  outcome: TickOutcome;
  skip_reason: string | null;
  cursor_before: string | null;
  cursor_after: string | null;
  run_ids: string[];
  error: string | null;
}

export interface NewTick {
  name: string;
  kind: InstigatorKind;
  startedAt: number;
  finishedAt: number;
  outcome: TickOutcome;
  skipReason?: string | null;
  cursorBefore: string | null;
  cursorAfter: string | null;
  runIds: readonly string[];
  error?: string | null;
}

export interface SensorFileRecord {
  key: string;
  version: string;
  partition: string;
}

const CHUNK = 500;

/** Multi-row INSERT in chunks: per-statement overhead dominates small writes in DuckDB. */
export async function insertRows(
  tx: SqlSession,
  head: string,
  values: string,
  rows: readonly SqlValue[][],
): Promise<void> {
  const width = rows[0]?.length ?? 0;
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    const tuples = chunk.map((_, r) =>
      values.replace(/\$(\d+)/g, (_m, n: string) => `$${r * width + Number(n)}`),
    );
    await tx.exec(`${head} VALUES ${tuples.join(', ')}`, chunk.flat());
  }
}

const tickRow = (row: Record<string, Cell>): Tick => ({
  tick_id: Number(row.tick_id),
  started_at: String(row.started_at),
  finished_at: (row.finished_at as string | null) ?? null,
  outcome: row.outcome as TickOutcome,
  skip_reason: (row.skip_reason as string | null) ?? null,
  cursor_before: (row.cursor_before as string | null) ?? null,
  cursor_after: (row.cursor_after as string | null) ?? null,
  run_ids: (row.run_ids as string[] | null) ?? [],
  error: (row.error as string | null) ?? null,
});

/** Persistent state of sensors and schedules: on/off, cursors, tick history, sensor snapshots. */
export class AutomationStore {
  constructor(private readonly warehouse: Warehouse) {}

  async setup(): Promise<void> {
    await setupSchema(this.warehouse, [
      ...sql.AUTOMATION_SCHEMA,
      ...sqlDialect(this.warehouse.dialect).lookupIndexes(sql.AUTOMATION_POSTGRES_INDEXES),
    ]);
  }

  /** Inserts the state row if missing; on PostgreSQL another process inserting it too is no error. */
  private get insertState(): string {
    return sql.INSERT_STATE + (this.warehouse.dialect === 'postgres' ? sql.ON_CONFLICT_DO_NOTHING : '');
  }

  async states(): Promise<Map<string, InstigatorState>> {
    const rows = await this.warehouse.all<InstigatorState>(sql.ALL_STATE);
    return new Map(rows.map((r) => [r.name, r]));
  }

  async state(name: string): Promise<InstigatorState | null> {
    return (await this.states()).get(name) ?? null;
  }

  /** Makes sure a row exists; a new instigator starts with `enabled`. */
  async ensure(name: string, kind: InstigatorKind, enabled: boolean): Promise<void> {
    await this.warehouse.exec(this.insertState, [name, kind, enabled]);
  }

  /**
   * Switches an instigator on or off. `resetCursor` clears the cursor (schedules: a stopped
   * period is not "missed", the schedule restarts from now).
   */
  async setEnabled(name: string, kind: InstigatorKind, enabled: boolean, resetCursor = false): Promise<void> {
    await this.warehouse.transaction(async (tx) => {
      await tx.exec(this.insertState, [name, kind, enabled]);
      await tx.exec(sql.UPDATE_ENABLED, [name, enabled, resetCursor]);
    });
  }

  async setCursor(name: string, kind: InstigatorKind, cursor: string | null): Promise<void> {
    await this.warehouse.transaction(async (tx) => {
      await tx.exec(this.insertState, [name, kind, false]);
      await tx.exec(sql.UPDATE_CURSOR, [name, cursor]);
    });
  }

  /**
   * Records a tick and moves the cursor in one transaction, with `extra` (e.g. a sensor's
   * snapshot changes) so a crash never leaves a cursor that disagrees with what was recorded.
   */
  async commitTick(tick: NewTick, extra?: (tx: SqlSession) => Promise<void>): Promise<number> {
    return this.warehouse.transaction(async (tx) => {
      await extra?.(tx);
      if (tick.cursorAfter !== tick.cursorBefore) {
        await tx.exec(this.insertState, [tick.name, tick.kind, false]);
        await tx.exec(sql.UPDATE_CURSOR, [tick.name, tick.cursorAfter]);
      }
      const [row] = await tx.all<{ tick_id: number }>(sql.INSERT_TICK, [
        tick.name,
        tick.kind,
        timestampParam(tick.startedAt),
        timestampParam(tick.finishedAt),
        tick.outcome,
        tick.skipReason ?? null,
        tick.cursorBefore,
        tick.cursorAfter,
        tick.runIds.join(','),
        tick.error ?? null,
      ]);
      return Number(row?.tick_id ?? 0);
    });
  }

  async ticks(name: string, limit = 50): Promise<Tick[]> {
    const rows = await this.warehouse.all(sql.LIST_TICKS, [name, limit]);
    return rows.map(tickRow);
  }

  async lastTicks(): Promise<Map<string, Tick>> {
    const rows = await this.warehouse.all(sql.LAST_TICKS);
    return new Map(rows.map((r) => [String(r.name), tickRow(r)]));
  }

  /** When each instigator last started a tick that did not fail (ISO-8601 UTC). */
  async lastSuccessfulTicks(): Promise<Map<string, string>> {
    const rows = await this.warehouse.all<{ name: string; started_at: string }>(sql.LAST_SUCCESSFUL_TICKS);
    return new Map(rows.map((r) => [r.name, String(r.started_at)]));
  }

  async pruneTicks(name: string, keep: number): Promise<void> {
    await this.warehouse.exec(sql.PRUNE_TICKS, [name, keep]);
  }

  async sensorFiles(sensor: string): Promise<SensorFileRecord[]> {
    const rows = await this.warehouse.all<{ source_key: string; version: string; partition: string }>(
      sql.SENSOR_FILES,
      [sensor],
    );
    return rows.map((r) => ({ key: r.source_key, version: r.version, partition: r.partition }));
  }

  /** Applies a snapshot change inside the caller's transaction. */
  static async applySensorFiles(
    tx: SqlSession,
    sensor: string,
    change: {
      added: readonly SensorFileRecord[];
      modified: readonly SensorFileRecord[];
      removed: readonly string[];
    },
  ): Promise<void> {
    const upserts = [...change.added, ...change.modified];
    // New keys are not in the table: only modified and removed ones need deleting.
    const keys = [...change.modified.map((f) => f.key), ...change.removed];
    for (let start = 0; start < keys.length; start += CHUNK) {
      const chunk = keys.slice(start, start + CHUNK);
      const placeholders = chunk.map((_, i) => `$${i + 2}`).join(', ');
      await tx.exec(sql.DELETE_SENSOR_FILES.replace('{keys}', placeholders), [sensor, ...chunk]);
    }
    await insertRows(
      tx,
      sql.INSERT_SENSOR_FILES,
      sql.SENSOR_FILE_VALUES,
      upserts.map((f) => [sensor, f.key, f.version, f.partition]),
    );
  }

  static async clearSensorFiles(tx: SqlSession, sensor: string): Promise<void> {
    await tx.exec(sql.CLEAR_SENSOR_FILES, [sensor]);
  }
}
