import { sqlDialect } from '../warehouse/dialect.js';
import {
  insertMany,
  type Row,
  type SqlSession,
  type SqlValue,
  type Warehouse,
} from '../warehouse/warehouse.js';
import type { AssetDefinition, AssetResult } from './asset.js';
import type {
  AssetCheckContext,
  AssetCheckDefinition,
  BlockedPartition,
  CheckOutcome,
  CheckResult,
  CheckSeverity,
} from './asset-check.js';
import type { AssetGraph } from './asset-graph.js';
import * as sql from './checks-sql.js';
import { setupSchema } from './ledger.js';

/** One check's verdicts from one evaluation, grouped for the run's log. */
export interface CheckVerdict {
  asset: string;
  check: string;
  severity: CheckSeverity;
  /** Whether its failures withhold data from downstream assets (see AssetCheckDefinition.withholds). */
  withholds: boolean;
  passed: number;
  /** Failed outcomes, in partition order. */
  failed: CheckOutcome[];
  /** The check's own account of all its failures, when it gives one (`summarize`). */
  summary: string | null;
}

/** One outcome to store, with what it is an outcome of. */
export type CheckRow = CheckOutcome & { asset: string; check: string; severity: CheckSeverity };

/** An (asset, partition, check) key whose latest result failed, as check_failures holds it. */
export interface FailingKey {
  asset: string;
  partition: string | null;
  check_name: string;
}

const keyOf = (k: FailingKey): string => JSON.stringify([k.asset, k.partition, k.check_name]);

/** The keys of the given (asset, check) pairs, matched as CURRENT_FAILURES matches them. */
function ofPairs(keys: readonly FailingKey[], pairs: readonly { asset: string; check: string }[]) {
  const wanted = new Set(pairs.map((p) => `${p.asset}/${p.check}`));
  return keys.filter((k) => wanted.has(`${k.asset}/${k.check_name}`));
}

/** A stored result's key and verdict, as the insert returns it. */
interface StoredKey {
  result_id: number | string;
  asset: string;
  partition: string | null;
  check_name: string;
  passed: boolean;
}

/** `count` copies of a `$1..$width` tuple, renumbered per row. */
const tuples = (tuple: string, count: number, width: number): string =>
  Array.from({ length: count }, (_, r) =>
    tuple.replace(/\$(\d+)/g, (_m, n: string) => `$${r * width + Number(n)}`),
  ).join(', ');

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const text = (value: string | number | null | undefined): string | null =>
  value === null || value === undefined ? null : String(value);

/** Describes partitions compactly for messages: `2025-04-01, 2025-04-02 and 3 more`. */
export function describePartitions(partitions: readonly (string | null)[], max = 3): string {
  const names = partitions.map((p) => p ?? 'the whole asset');
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/**
 * Warehouses whose check tables this process has already created: every run sets them up before its
 * first asset, and a transaction of DDL per run is time the daemon's run start does not need to pay.
 */
const checkTablesReady = new WeakSet<Warehouse>();

/** Records check results and answers "what is held back upstream of this asset?". */
export class CheckStore {
  constructor(private readonly warehouse: Warehouse) {}

  async setup(): Promise<void> {
    if (checkTablesReady.has(this.warehouse)) return;
    await setupSchema(this.warehouse, [
      ...sql.CHECK_SCHEMA,
      ...sqlDialect(this.warehouse.dialect).lookupIndexes(sql.CHECK_POSTGRES_INDEXES),
    ]);
    checkTablesReady.add(this.warehouse);
  }

  /** Stores results and, in the same transaction, which keys' latest result now fails. */
  async record(runId: string, rows: readonly CheckRow[]): Promise<FailingKey[] | null> {
    if (rows.length === 0) return null;
    return this.warehouse.transaction((tx) => this.recordIn(tx, runId, rows));
  }

  /**
   * `record` inside the caller's transaction (the run writes an asset's ledger rows with them).
   * Returns every failing key as this transaction leaves check_failures (null when it wrote
   * nothing): read under the lock, so once it commits the run knows the table without asking.
   */
  async recordIn(tx: SqlSession, runId: string, rows: readonly CheckRow[]): Promise<FailingKey[] | null> {
    if (rows.length === 0) return null;
    await tx.lock(sql.CHECK_RESULTS_LOCK);
    const latest = new Map<string, StoredKey>();
    for (let start = 0; start < rows.length; start += 500) {
      const chunk = rows.slice(start, start + 500);
      const params: SqlValue[] = chunk.flatMap((o) => [
        o.asset,
        o.partition,
        o.check,
        o.severity,
        o.passed,
        text(o.observed),
        text(o.threshold),
        o.message ?? null,
        runId,
      ]);
      const stored = await tx.all<StoredKey>(
        `${sql.INSERT_CHECK_RESULTS} VALUES ${tuples(sql.CHECK_RESULT_VALUES, chunk.length, 9)}
          ${sql.RETURNING_RESULT_KEYS}`,
        params,
      );
      // The latest result of a key is its highest id, whatever order the rows came back in.
      for (const row of stored) {
        const key = JSON.stringify([row.asset, row.partition, row.check_name]);
        const seen = latest.get(key);
        if (!seen || BigInt(String(row.result_id)) > BigInt(String(seen.result_id))) latest.set(key, row);
      }
    }
    const keys = [...latest.values()];
    // Usually nothing fails: reading the few failing rows is cheaper than a DELETE that finds none.
    const before = await tx.all<FailingKey>(sql.ALL_FAILURES);
    const failingNow = new Set(before.map(keyOf));
    const failing = keys.filter((k) => !k.passed);
    const known = keys.filter((k) => failingNow.has(keyOf(k)));
    const again = known.filter((k) => !k.passed);
    const cleared = known.filter((k) => k.passed);
    const added = failing.filter((k) => !failingNow.has(keyOf(k)));
    // Keys failing again (a failing check is evaluated on every run) keep their row and point at
    // the new result, when that takes fewer statements than deleting and re-inserting them.
    const statements = (...sets: unknown[][]) => sets.filter((set) => set.length > 0).length;
    const update = statements(cleared, again, added) < statements(known, failing);
    await this.deleteFailures(tx, update ? cleared : known);
    if (update) {
      for (let start = 0; start < again.length; start += 500) {
        const chunk = again.slice(start, start + 500);
        await tx.exec(
          `${sql.UPDATE_CHECK_FAILURES_HEAD} ${tuples(sql.CHECK_FAILURE_ROW, chunk.length, 4)}
            ${sql.UPDATE_CHECK_FAILURES_TAIL}`,
          chunk.flatMap((k) => [k.asset, k.partition, k.check_name, String(k.result_id)]),
        );
      }
    }
    const inserted = update ? added : failing;
    if (inserted.length > 0) {
      await insertMany(
        tx,
        sql.INSERT_CHECK_FAILURES,
        sql.CHECK_FAILURE_VALUES,
        inserted.map((k) => [k.asset, k.partition, k.check_name, String(k.result_id)]),
      );
    }
    const written = new Set(keys.map(keyOf));
    return [
      ...before.filter((k) => !written.has(keyOf(k))),
      ...failing.map((k) => ({ asset: k.asset, partition: k.partition, check_name: k.check_name })),
    ];
  }

  private async deleteFailures(tx: SqlSession, keys: readonly FailingKey[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 500) {
      const chunk = keys.slice(start, start + 500);
      await tx.exec(
        `${sql.DELETE_CHECK_FAILURES_HEAD} ${tuples(sql.CHECK_FAILURE_KEY, chunk.length, 3)}
          ${sql.DELETE_CHECK_FAILURES_TAIL}`,
        chunk.flatMap((k) => [k.asset, k.partition, k.check_name]),
      );
    }
  }

  /** Every failing key (check_failures holds only those). */
  failingKeys(): Promise<FailingKey[]> {
    return this.warehouse.all<FailingKey>(sql.ALL_FAILURES);
  }

  /** Latest failures of the given (asset, check) pairs. */
  async currentFailures(
    pairs: readonly { asset: string; check: string }[],
  ): Promise<{ asset: string; partition: string | null; check_name: string }[]> {
    if (pairs.length === 0) return [];
    return this.warehouse.all(sql.CURRENT_FAILURES, [pairs.map((p) => `${p.asset}/${p.check}`).join(',')]);
  }

  /** The latest result of every check (optionally one asset / one partition). */
  latest(filter: { asset?: string | null; partition?: string | null } = {}): Promise<CheckResult[]> {
    return this.warehouse.all<CheckResult>(sql.LATEST_CHECK_RESULTS, [
      filter.asset ?? null,
      filter.partition ?? null,
    ]);
  }

  /** Every evaluation, newest first. */
  history(filter: { asset?: string | null; partition?: string | null; limit?: number } = {}): Promise<Row[]> {
    return this.warehouse.all(sql.CHECK_RESULT_HISTORY, [
      filter.asset ?? null,
      filter.partition ?? null,
      filter.limit ?? 100,
    ]);
  }
}

/**
 * Runs an asset's checks after it materialized and works out, before an asset runs, which upstream
 * partitions failed `error` checks. Knows nothing about what the checks test.
 */
export class CheckRunner {
  readonly store: CheckStore;
  /**
   * check_failures as this run last saw it: read once, then taken from each committed `recordIn`,
   * which reads it under the results' lock. Only `recordIn` writes the table, so within a run this
   * is what a fresh read would return; it saves two lookups per asset (issue 12).
   */
  private known: FailingKey[] | null = null;

  constructor(private readonly options: { warehouse: Warehouse; graph: AssetGraph; runId: string }) {
    this.store = new CheckStore(options.warehouse);
  }

  /** Latest failures of the given (asset, check) pairs, as `CheckStore.currentFailures` answers. */
  async currentFailures(pairs: readonly { asset: string; check: string }[]): Promise<FailingKey[]> {
    if (pairs.length === 0) return [];
    this.known ??= await this.store.failingKeys();
    return ofPairs(this.known, pairs);
  }

  /** After a commit of `recordIn`: the failing keys it returned (null: it wrote nothing). */
  adopt(keys: FailingKey[] | null): void {
    if (keys) this.known = keys;
  }

  /** After a write of check results that may not have committed: read the table again. */
  forget(): void {
    this.known = null;
  }

  /** Upstream partitions (or whole assets) that failed an `error` check, as `asset` must see them. */
  async upstreamBlocks(asset: AssetDefinition): Promise<BlockedPartition[]> {
    const pairs = asset.deps.flatMap((dep) =>
      (this.options.graph.get(dep).checks ?? [])
        .filter((c) => c.severity === 'error' && c.withholds !== false)
        .map((c) => ({ asset: dep, check: c.name })),
    );
    const failures = await this.currentFailures(pairs);
    const grouped = new Map<string, BlockedPartition>();
    for (const f of failures) {
      const key = `${f.asset}\u0000${f.partition ?? ''}`;
      const entry = grouped.get(key) ?? { asset: f.asset, partition: f.partition, checks: [] };
      if (!entry.checks.includes(f.check_name)) entry.checks.push(f.check_name);
      grouped.set(key, entry);
    }
    return [...grouped.values()].sort(
      (a, b) => a.asset.localeCompare(b.asset) || String(a.partition).localeCompare(String(b.partition)),
    );
  }

  /** Evaluates every check of `asset` against what it just materialized and records the results. */
  async evaluate(
    asset: AssetDefinition,
    result: AssetResult,
    blockedUpstream: readonly BlockedPartition[],
    signal: AbortSignal,
  ): Promise<CheckVerdict[]> {
    const { verdicts, rows } = await this.assess(asset, result, blockedUpstream, signal);
    try {
      this.adopt(await this.store.record(this.options.runId, rows));
    } catch (error) {
      this.forget();
      throw error;
    }
    return verdicts;
  }

  /** `evaluate` without storing: the results to store (`store.recordIn`) beside the verdicts. */
  async assess(
    asset: AssetDefinition,
    result: AssetResult,
    blockedUpstream: readonly BlockedPartition[],
    signal: AbortSignal,
  ): Promise<{ verdicts: CheckVerdict[]; rows: CheckRow[] }> {
    const checks = asset.checks ?? [];
    if (checks.length === 0) return { verdicts: [], rows: [] };
    const failing = await this.currentFailures(checks.map((c) => ({ asset: asset.name, check: c.name })));
    const partitions = [
      ...new Set(result.partitions.map((p) => p.partition).filter((p): p is string => p !== null)),
    ].sort();
    const verdicts: CheckVerdict[] = [];
    const rows: CheckRow[] = [];
    for (const check of checks) {
      const context: AssetCheckContext = {
        runId: this.options.runId,
        asset: asset.name,
        warehouse: this.options.warehouse,
        partitions,
        changed: result.changed,
        metadata: result.metadata ?? {},
        failing: failing.filter((f) => f.check_name === check.name).map((f) => f.partition),
        blockedUpstream,
        signal,
      };
      const outcomes = await this.evaluateOne(check, context);
      const verdict: CheckVerdict = {
        asset: asset.name,
        check: check.name,
        severity: check.severity,
        withholds: check.withholds !== false,
        passed: 0,
        failed: [],
        summary: null,
      };
      for (const outcome of outcomes) {
        rows.push({ ...outcome, asset: asset.name, check: check.name, severity: check.severity });
        if (outcome.passed) verdict.passed++;
        else verdict.failed.push(outcome);
      }
      verdict.summary = await this.summarize(check, context, verdict.failed);
      if (outcomes.length > 0) verdicts.push(verdict);
    }
    return { verdicts, rows };
  }

  /** A check's summary of its failures; a failed outcome of its own (the check crashed) has none. */
  private async summarize(
    check: AssetCheckDefinition,
    context: AssetCheckContext,
    failed: readonly CheckOutcome[],
  ): Promise<string | null> {
    if (!check.summarize || failed.length === 0 || failed.some((o) => o.partition === null)) return null;
    try {
      return await check.summarize(context, failed);
    } catch {
      // The verdicts are recorded either way; the run's message falls back to the first failure.
      return null;
    }
  }

  private async evaluateOne(
    check: AssetCheckDefinition,
    context: Parameters<AssetCheckDefinition['evaluate']>[0],
  ): Promise<CheckOutcome[]> {
    try {
      const outcomes = await check.evaluate(context);
      // One verdict per partition: the last one a check reports wins.
      const byPartition = new Map<string | null, CheckOutcome>();
      for (const o of outcomes) byPartition.set(o.partition, o);
      // A per-partition check that crashed last time left a whole-asset failure; running cleanly clears it.
      if (context.failing.includes(null) && !byPartition.has(null)) {
        byPartition.set(null, { partition: null, passed: true, message: 'evaluated without error' });
      }
      return [...byPartition.values()];
    } catch (error) {
      // A check that cannot run proves nothing: fail closed so an `error` check still blocks.
      return [
        {
          partition: null,
          passed: false,
          message: `check could not be evaluated: ${errorMessage(error)}`,
        },
      ];
    }
  }
}
