import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AutomationStore } from '../../src/orchestrator/automation-store.js';
import { Backfills } from '../../src/orchestrator/backfill.js';
import { CheckStore } from '../../src/orchestrator/check-runner.js';
import { type AssetRunRecord, Ledger } from '../../src/orchestrator/ledger.js';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import type { Cell, Warehouse } from '../../src/warehouse/warehouse.js';
import { createDatabase, postgresPerFile } from '../support/postgres.js';
import { tmpDir } from '../support/tmp.js';

/**
 * The ledger, check store and automation store run the same SQL on DuckDB and PostgreSQL: one
 * scenario of every operation the pipeline uses runs against a real DuckDB file and a real
 * PostgreSQL database, each asserted alike, and the two snapshots must be equal.
 */

type Dialect = 'duckdb' | 'postgres';
const postgres = postgresPerFile();
const withPostgres = postgres.available;

async function openDuckDB(): Promise<Warehouse> {
  const dir = await tmpDir('ledger-contract');
  const warehouse = await openWarehouse({ path: path.join(dir, 'warehouse.duckdb'), threads: 1 });
  return warehouse;
}

/** A fresh PostgreSQL database and `count` warehouses on it (separate pools, as separate processes have). */
async function openPostgres(count = 1): Promise<{ warehouses: Warehouse[]; dispose: () => Promise<void> }> {
  const database = await createDatabase(postgres.server(), 'ledger');
  const warehouses: Warehouse[] = [];
  for (let i = 0; i < count; i++) {
    warehouses.push(await openWarehouse({ path: 'unused', databaseUrl: database.url }));
  }
  return {
    warehouses,
    dispose: async () => {
      for (const w of warehouses) await w.close();
      await database.drop();
    },
  };
}

async function open(dialect: Dialect): Promise<{ warehouse: Warehouse; dispose: () => Promise<void> }> {
  if (dialect === 'duckdb') {
    const warehouse = await openDuckDB();
    return { warehouse, dispose: () => warehouse.close() };
  }
  const { warehouses, dispose } = await openPostgres();
  return { warehouse: warehouses[0] as Warehouse, dispose };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z$/;

/**
 * Run ids are random and timestamps come from the clock: labels replace the ids (in creation
 * order) and `<ts>` every ISO timestamp, so the two dialects' snapshots can be compared.
 */
class Normalizer {
  private readonly labels = new Map<string, string>();

  label(id: string, name: string): string {
    this.labels.set(id, name);
    return id;
  }

  /** A run's duration comes from the clock too: it must be a whole number of milliseconds. */
  private field(key: string, value: unknown): unknown {
    if (key !== 'duration_ms' || value === null) return this.apply(value);
    expect(Number.isInteger(value) && (value as number) >= 0, `duration_ms ${String(value)}`).toBe(true);
    return '<ms>';
  }

  apply(value: unknown): unknown {
    if (typeof value === 'string') {
      const label = this.labels.get(value);
      if (label) return label;
      if (ISO.test(value)) return '<ts>';
      let text = value;
      for (const [id, name] of this.labels) text = text.replaceAll(id, name);
      return text;
    }
    if (Array.isArray(value)) return value.map((v) => this.apply(v));
    if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, this.apply(v)]));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.field(k, v)]));
    }
    return value;
  }
}

const snapshots = new Map<Dialect, unknown>();

const AT = Date.UTC(2025, 3, 23, 10, 0, 0, 123);

/** Every ledger operation the pipeline uses, with assertions that hold in both dialects. */
async function ledgerScenario(warehouse: Warehouse, n: Normalizer): Promise<Record<string, unknown>> {
  const ledger = new Ledger(warehouse);
  await ledger.setup();
  await ledger.setup(); // idempotent: every process runs it at start

  const first = n.label(
    await ledger.createRun({
      trigger: 'manual',
      selection: ['billing_files', 'events'],
      range: { from: '2025-04-01', to: '2025-04-02' },
      fullRefresh: true,
      tags: { who: 'test' },
    }),
    'run1',
  );
  expect(first).toMatch(/^\d{8}-\d{6}-[0-9a-f]{6}$/);
  const keyed = n.label(
    await ledger.createRun(
      { trigger: 'sensor', selection: ['events'], range: null, fullRefresh: false, runKey: 'sensor:1' },
      'queued',
    ),
    'run2',
  );
  // A second submission of the same key creates nothing and names the first run.
  const again = await ledger.createRunOnce(
    { trigger: 'sensor', selection: ['events'], range: null, fullRefresh: false, runKey: 'sensor:1' },
    'queued',
  );
  expect(again).toEqual({ runId: keyed, deduplicated: true });
  expect(
    await ledger.createRun({
      trigger: 'sensor',
      selection: ['x'],
      range: null,
      fullRefresh: false,
      runKey: 'sensor:1',
    }),
  ).toBe(keyed);
  expect(await ledger.findRunByKey('sensor:1')).toEqual({ run_id: keyed, status: 'queued' });
  expect(await ledger.findRunByKey('sensor:2')).toBeNull();

  await ledger.startRun(keyed);
  await ledger.recordAssetRun(first, {
    asset: 'billing_files',
    status: 'success',
    changed: true,
    rowCount: 3,
    startedAt: AT,
    durationMs: 1500,
    error: null,
    metadata: { files: 2, note: 'a, b' },
    partitions: [
      {
        partition: '2025-04-01',
        rowCount: 2,
        inputs: ['s3://b/a.csv@v1', 's3://b/b.csv@v2'],
        metadata: { x: 1 },
      },
      { partition: '2025-04-02', rowCount: 1, inputs: [] },
    ],
  });
  await ledger.recordAssetRun(first, {
    asset: 'events',
    status: 'failed',
    changed: false,
    rowCount: null,
    startedAt: AT + 2000,
    durationMs: 7,
    error: 'boom',
    partitions: [{ partition: null, rowCount: 0 }],
  });
  await ledger.appendEvents(first, 0, [
    { at: AT, level: 'info', type: 'run_started', asset: null, message: 'started' },
    { at: AT + 1, level: 'warn', type: 'asset', asset: 'events', message: 'hmm', data: { n: 1, s: 'x' } },
  ]);
  await ledger.appendEvents(first, 2, []);
  await ledger.appendEvents(first, 2, [
    { at: AT + 2, level: 'error', type: 'asset', asset: 'events', message: 'boom' },
  ]);
  await ledger.finishRun(first, 'failed', 'events failed');

  expect(await ledger.getCursor('events')).toBeNull();
  await warehouse.transaction((tx) => ledger.setCursor(tx, 'events', 'c1'));
  await warehouse.transaction((tx) => ledger.setCursor(tx, 'events', 'c2'));
  expect(await ledger.getCursor('events')).toBe('c2');

  const run = await ledger.getRun(first);
  expect(run?.run).toMatchObject({
    status: 'failed',
    selection: ['billing_files', 'events'],
    partition_from: '2025-04-01',
    partition_to: '2025-04-02',
    full_refresh: true,
    run_key: null,
    error: 'events failed',
    tags: '{"who":"test"}',
  });
  const duration = run?.run.duration_ms;
  expect(Number.isInteger(duration) && (duration as number) >= 0).toBe(true);
  expect(run?.events.map((e) => [e.seq, e.logged_at, e.level, e.data])).toEqual([
    [0, '2025-04-23T10:00:00.123000Z', 'info', null],
    [1, '2025-04-23T10:00:00.124000Z', 'warn', '{"n":1,"s":"x"}'],
    [2, '2025-04-23T10:00:00.125000Z', 'error', null],
  ]);
  expect(
    run?.assets.map((a) => [a.asset, a.status, a.changed, a.row_count, a.started_at, a.duration_ms]),
  ).toEqual([
    ['billing_files', 'success', true, 3, '2025-04-23T10:00:00.123000Z', 1500],
    ['events', 'failed', false, null, '2025-04-23T10:00:02.123000Z', 7],
  ]);
  const partition1 = await ledger.partitionMaterializations('billing_files', '2025-04-01');
  expect(
    partition1.map((m) => [m.run_id, m.status, m.row_count, m.inputs, m.duration_ms, m.metadata, m.trigger]),
  ).toEqual([[first, 'success', 2, ['s3://b/a.csv@v1', 's3://b/b.csv@v2'], 1500, '{"x":1}', 'manual']]);
  expect((await ledger.partitionMaterializations('billing_files', '2025-04-02'))[0]?.inputs).toBeNull();
  expect((await ledger.partitionMaterializations('events', null)).map((m) => m.status)).toEqual(['failed']);

  // A queue's bulk insert keeps its order, and pages by the last run of the previous page.
  const queued = await ledger.createQueuedRuns(
    ['2025-04-03', '2025-04-04', '2025-04-05'].map((day) => ({
      trigger: 'backfill',
      selection: ['events'],
      range: { from: day, to: day },
      fullRefresh: false,
      tags: { partition: day },
      // The configuration a run records (Dagster's run config); the others record none here.
      config: day === '2025-04-04' ? { source: 's3://b/p/' } : undefined,
    })),
  );
  for (const [i, id] of queued.entries()) n.label(id, `queued${i + 1}`);
  expect(new Set(queued).size).toBe(3);
  expect((await ledger.queuedRuns()).map((r) => r.run_id)).toEqual([...queued]);
  expect(await ledger.runRequest(queued[1] as string)).toEqual({
    run_id: queued[1],
    status: 'queued',
    trigger: 'backfill',
    selection: ['events'],
    partition_from: '2025-04-04',
    partition_to: '2025-04-04',
    full_refresh: false,
    run_key: null,
    tags: '{"partition":"2025-04-04"}',
    config: '{"source":"s3://b/p/"}',
  });
  expect(await ledger.cancelQueuedRun(queued[2] as string)).toBe(true);
  expect(await ledger.cancelQueuedRun(queued[2] as string)).toBe(false);
  const listed = (await ledger.listRuns(10)).map((r) => r.run_id);
  expect(listed).toEqual([queued[2], queued[1], queued[0], keyed, first]);
  const page1 = await ledger.listRunsPage({ limit: 2 });
  const page2 = await ledger.listRunsPage({ limit: 2, before: String(page1.at(-1)?.run_id) });
  const page3 = await ledger.listRunsPage({ limit: 2, before: String(page2.at(-1)?.run_id) });
  expect([...page1, ...page2, ...page3].map((r) => r.run_id)).toEqual(listed);
  expect((await ledger.listRunsPage({ limit: 10, status: 'queued' })).map((r) => r.run_id)).toEqual([
    queued[1],
    queued[0],
  ]);
  expect(await ledger.listRunsPage({ limit: 10, before: 'no-such-run' })).toEqual([]);

  const states = await ledger.assetStates();
  expect(states.get('billing_files')?.lastSuccessAt).toMatch(ISO);
  expect(states.get('billing_files')?.lastChangeAt).toBe(states.get('billing_files')?.lastSuccessAt);
  expect(states.get('events')).toEqual({ lastSuccessAt: null, lastChangeAt: null });
  const latest = await ledger.latestAssetRuns();
  expect(latest.map((r) => [r.asset, r.status]).sort()).toEqual([
    ['billing_files', 'success'],
    ['events', 'failed'],
  ]);

  // The keyed run is running: a restart finds it orphaned; queued runs stay for the queue.
  expect(await ledger.failOrphanedRunning()).toEqual([keyed]);
  expect(await ledger.failOrphanedRunning()).toEqual([]);
  const lists = {
    runs: await ledger.listRuns(10),
    page: page2,
    run: await ledger.getRun(first),
    partition1,
    states,
    latest: latest.sort((a, b) => String(a.asset).localeCompare(String(b.asset))),
    queuedRuns: await ledger.queuedRuns(),
  };
  expect(await ledger.failOrphanedRuns()).toBe(2);
  expect(await ledger.queuedRuns()).toEqual([]);

  // The no-op fast path: asset runs, events and the run's end in one transaction, and which assets
  // no unclean run has followed since the run of their last success started.
  const plain = {
    trigger: 'manual',
    selection: ['billing_files', 'events'],
    range: null,
    fullRefresh: false,
  };
  const batched = n.label(await ledger.createRun(plain), 'batched');
  expect([...(await ledger.cleanAssets(batched))]).toEqual([]); // every success so far is in a failed run
  const noOp = (asset: string, startedAt: number, metadata: Record<string, Cell>): AssetRunRecord => ({
    asset,
    status: 'success',
    changed: false,
    rowCount: null,
    startedAt,
    durationMs: 0,
    error: null,
    metadata,
    partitions: [],
  });
  await ledger.finishRunWith(
    batched,
    { status: 'success', error: null },
    {
      assetRuns: [
        noOp('billing_files', AT, { diff: 'unchanged' }),
        noOp('events', AT + 1, { skipped: true, reason: 'up to date' }),
      ],
      firstSeq: 0,
      events: [{ at: AT, level: 'info', type: 'run_success', asset: null, message: 'run success' }],
    },
  );
  const after = n.label(await ledger.createRun(plain), 'after-batched');
  const clean = [...(await ledger.cleanAssets(after))].sort();
  expect(clean).toEqual(['billing_files', 'events']);
  await ledger.finishRun(after, 'failed', 'died');
  const afterFailure = n.label(await ledger.createRun(plain), 'after-failure');
  expect([...(await ledger.cleanAssets(afterFailure))]).toEqual([]);
  await ledger.finishRun(afterFailure, 'success', null);
  return { ...lists, batched: await ledger.getRun(batched), clean };
}

async function checkScenario(warehouse: Warehouse, n: Normalizer): Promise<Record<string, unknown>> {
  const store = new CheckStore(warehouse);
  await store.setup();
  const run1 = n.label('20250423-100000-aaaaaa', 'checkrun1');
  const run2 = n.label('20250423-100000-bbbbbb', 'checkrun2');
  const base = { asset: 'events', severity: 'error' as const };
  await store.record(run1, [
    {
      ...base,
      check: 'no_gaps',
      partition: '2025-04-01',
      passed: false,
      observed: 3,
      threshold: 0,
      message: 'gaps',
    },
    { ...base, check: 'no_gaps', partition: '2025-04-02', passed: true },
    { ...base, check: 'fresh', partition: null, passed: false, observed: '1.5', message: 'stale' },
    { asset: 'totals', check: 'sums', severity: 'warn', partition: '2025-04-01', passed: false },
  ]);
  await store.record(run2, [
    { ...base, check: 'no_gaps', partition: '2025-04-01', passed: true, observed: 0, threshold: 0 },
    { ...base, check: 'no_gaps', partition: '2025-04-02', passed: false, message: 'new gap' },
  ]);
  await store.record(run2, []);

  const latest = await store.latest();
  expect(latest.map((r) => [r.asset, r.partition, r.check_name, r.passed, r.run_id])).toEqual([
    ['events', null, 'fresh', false, run1],
    ['events', '2025-04-01', 'no_gaps', true, run2],
    ['events', '2025-04-02', 'no_gaps', false, run2],
    ['totals', '2025-04-01', 'sums', false, run1],
  ]);
  expect(latest[0]).toMatchObject({ observed: '1.5', threshold: null, message: 'stale', severity: 'error' });
  expect(latest[0]?.evaluated_at).toMatch(ISO);
  expect((await store.latest({ asset: 'totals' })).map((r) => r.check_name)).toEqual(['sums']);
  expect((await store.latest({ partition: '2025-04-01' })).map((r) => [r.asset, r.passed])).toEqual([
    ['events', true],
    ['totals', false],
  ]);
  const history = await store.history({ asset: 'events', partition: '2025-04-01', limit: 5 });
  expect(history.map((r) => [r.run_id, r.passed, r.observed])).toEqual([
    [run2, true, '0'],
    [run1, false, '3'],
  ]);
  expect(await store.history({ limit: 1 })).toHaveLength(1);
  const failures = await store.currentFailures([
    { asset: 'events', check: 'no_gaps' },
    { asset: 'events', check: 'fresh' },
  ]);
  const sorted = failures.sort((a, b) => String(a.partition).localeCompare(String(b.partition)));
  expect(sorted).toEqual([
    { asset: 'events', partition: '2025-04-02', check_name: 'no_gaps' },
    { asset: 'events', partition: null, check_name: 'fresh' },
  ]);
  expect(await store.currentFailures([{ asset: 'events', check: 'missing' }])).toEqual([]);
  expect(await store.currentFailures([])).toEqual([]);
  return { latest, history, failures: sorted };
}

async function automationScenario(warehouse: Warehouse, n: Normalizer): Promise<Record<string, unknown>> {
  const store = new AutomationStore(warehouse);
  await store.setup();
  await store.setup();
  await store.ensure('daily', 'schedule', true);
  await store.ensure('daily', 'schedule', false); // exists already: unchanged
  await store.setEnabled('files', 'sensor', true);
  await store.setCursor('files', 'sensor', 'c0');
  await store.setEnabled('files', 'sensor', false, true);
  expect(await store.state('files')).toEqual({ name: 'files', kind: 'sensor', enabled: false, cursor: null });
  expect(await store.state('daily')).toEqual({
    name: 'daily',
    kind: 'schedule',
    enabled: true,
    cursor: null,
  });
  expect(await store.state('nope')).toBeNull();

  const tick1 = await store.commitTick(
    {
      name: 'files',
      kind: 'sensor',
      startedAt: AT,
      finishedAt: AT + 5,
      outcome: 'requested',
      cursorBefore: null,
      cursorAfter: 'c1',
      runIds: ['r1', 'r2'],
    },
    (tx) =>
      AutomationStore.applySensorFiles(tx, 'files', {
        added: [
          { key: 'a.csv', version: 'v1', partition: '2025-04-01' },
          { key: 'b.csv', version: 'v1', partition: '2025-04-02' },
        ],
        modified: [],
        removed: [],
      }),
  );
  const tick2 = await store.commitTick(
    {
      name: 'files',
      kind: 'sensor',
      startedAt: AT + 1000,
      finishedAt: AT + 1001,
      outcome: 'skipped',
      skipReason: 'nothing new',
      cursorBefore: 'c1',
      cursorAfter: 'c1',
      runIds: [],
    },
    (tx) =>
      AutomationStore.applySensorFiles(tx, 'files', {
        added: [],
        modified: [{ key: 'a.csv', version: 'v2', partition: '2025-04-01' }],
        removed: ['b.csv'],
      }),
  );
  const tick3 = await store.commitTick({
    name: 'daily',
    kind: 'schedule',
    startedAt: AT + 2000,
    finishedAt: AT + 2000,
    outcome: 'failed',
    cursorBefore: null,
    cursorAfter: null,
    runIds: [],
    error: 'no',
  });
  expect(tick2).toBeGreaterThan(tick1);
  expect(tick3).toBeGreaterThan(tick2);
  for (let i = 0; i < 3; i++) {
    await store.commitTick({
      name: 'files',
      kind: 'sensor',
      startedAt: AT + 3000 + i,
      finishedAt: AT + 3000 + i,
      outcome: 'skipped',
      cursorBefore: 'c1',
      cursorAfter: 'c1',
      runIds: [],
    });
  }
  expect((await store.state('files'))?.cursor).toBe('c1');
  const ticks = await store.ticks('files', 10);
  expect(ticks.map((t) => [t.outcome, t.run_ids])).toEqual([
    ['skipped', []],
    ['skipped', []],
    ['skipped', []],
    ['skipped', []],
    ['requested', ['r1', 'r2']],
  ]);
  expect(ticks.at(-1)).toMatchObject({
    tick_id: tick1,
    started_at: '2025-04-23T10:00:00.123000Z',
    finished_at: '2025-04-23T10:00:00.128000Z',
    cursor_before: null,
    cursor_after: 'c1',
  });
  expect(ticks[3]).toMatchObject({ skip_reason: 'nothing new', cursor_before: 'c1' });
  await store.pruneTicks('files', 2);
  // Skipped ticks beyond the newest two go; the one that requested runs stays.
  const pruned = await store.ticks('files', 10);
  expect(pruned.map((t) => t.outcome)).toEqual(['skipped', 'skipped', 'requested']);
  const last = await store.lastTicks();
  expect([...last.keys()].sort()).toEqual(['daily', 'files']);
  expect(last.get('daily')).toMatchObject({ tick_id: tick3, outcome: 'failed', error: 'no', run_ids: [] });
  expect(last.get('files')?.tick_id).toBe(pruned[0]?.tick_id);
  const successful = await store.lastSuccessfulTicks();
  expect(successful.get('files')).toBe('2025-04-23T10:00:03.125000Z');
  expect(successful.has('daily')).toBe(false);
  const files = (await store.sensorFiles('files')).sort((a, b) => a.key.localeCompare(b.key));
  expect(files).toEqual([{ key: 'a.csv', version: 'v2', partition: '2025-04-01' }]);
  await warehouse.transaction((tx) => AutomationStore.clearSensorFiles(tx, 'files'));
  expect(await store.sensorFiles('files')).toEqual([]);
  const states = await store.states();

  // Backfills over the ledger's queue records, as the daemon keeps them.
  const ledger = new Ledger(warehouse);
  await ledger.setup();
  const backfills = new Backfills({
    warehouse,
    allAssets: ['billing_files', 'events'],
    launcher: {
      submit: async (request) =>
        ledger.createRunOnce(
          {
            trigger: request.trigger,
            selection: request.selection ?? [],
            range: request.range ?? null,
            fullRefresh: false,
            tags: request.tags,
          },
          'queued',
        ),
      submitMany: (requests) =>
        ledger.createQueuedRuns(
          requests.map((r) => ({
            trigger: r.trigger,
            selection: r.selection ?? ['billing_files', 'events'],
            range: r.range ?? null,
            fullRefresh: false,
            tags: r.tags,
          })),
        ),
      cancel: (runId) => ledger.cancelQueuedRun(runId),
    },
  });
  const backfillId = await backfills.create({ range: { from: '2025-04-01', to: '2025-04-03' } });
  n.label(backfillId, 'backfill1');
  const created = await backfills.get(backfillId);
  for (const [i, p] of (created?.partitions ?? []).entries()) n.label(p.run_id, `bfrun${i + 1}`);
  expect(created?.backfill).toMatchObject({
    status: 'queued',
    partition_from: '2025-04-01',
    partition_to: '2025-04-03',
    selection: ['billing_files', 'events'],
    partitions_total: 3,
    canceled_at: null,
  });
  const [p1, p2] = created?.partitions ?? [];
  await ledger.startRun(String(p1?.run_id));
  await ledger.finishRun(String(p1?.run_id), 'success', null);
  await ledger.startRun(String(p2?.run_id));
  await ledger.finishRun(String(p2?.run_id), 'failed', 'x');
  const retried = await backfills.reexecuteFailed(backfillId);
  expect(retried).toHaveLength(1);
  n.label(String(retried?.[0]), 'bfretry');
  // A resumed run becomes the next attempt.
  const resumed = n.label(
    await ledger.createRun({ trigger: 'backfill', selection: [], range: null, fullRefresh: false }, 'queued'),
    'bfresume',
  );
  await backfills.relink(resumed, {
    trigger: 'backfill',
    tags: { backfill_id: backfillId, partition: '2025-04-02' },
  });
  const afterRetry = await backfills.get(backfillId);
  expect(afterRetry?.partitions.map((p) => [p.partition, p.status, p.attempt])).toEqual([
    ['2025-04-01', 'success', 1],
    ['2025-04-02', 'queued', 3],
    ['2025-04-03', 'queued', 1],
  ]);
  expect(afterRetry?.backfill.counts).toEqual({ queued: 2, running: 0, success: 1, failed: 0, canceled: 0 });
  expect(await backfills.cancel(backfillId)).toBe(2);
  const canceled = await backfills.get(backfillId);
  expect(canceled?.backfill).toMatchObject({ status: 'canceled', partitions_total: 3 });
  expect(canceled?.backfill.canceled_at).toMatch(ISO);
  expect(canceled?.backfill.finished_at).toMatch(ISO);
  const second = await backfills.create({
    range: { from: '2025-05-01', to: '2025-05-01' },
    selection: ['events'],
  });
  n.label(second, 'backfill2');
  const list = await backfills.list();
  expect(list.map((b) => [b.backfill_id, b.selection, b.status])).toEqual([
    [second, ['events'], 'queued'],
    [backfillId, ['billing_files', 'events'], 'canceled'],
  ]);
  expect(await backfills.get('bf-nope')).toBeNull();
  for (const p of (await backfills.get(second))?.partitions ?? []) n.label(p.run_id, 'bf2run1');
  return { states, ticks: pruned, last, successful, canceled, list };
}

describe.each<Dialect>(['duckdb', 'postgres'])('ledger contract on %s', (dialect) => {
  const skip = dialect === 'postgres' && !withPostgres;

  it.skipIf(skip)(
    'runs every ledger, check and automation operation with the same results',
    async () => {
      const { warehouse, dispose } = await open(dialect);
      try {
        const n = new Normalizer();
        const snapshot = {
          ledger: await ledgerScenario(warehouse, n),
          checks: await checkScenario(warehouse, n),
          automation: await automationScenario(warehouse, n),
        };
        snapshots.set(dialect, n.apply(snapshot));
      } finally {
        await dispose();
      }
    },
    60_000,
  );
});

describe('ledger contract across dialects', () => {
  it.skipIf(!withPostgres)('gives DuckDB and PostgreSQL the same snapshot', () => {
    const duck = snapshots.get('duckdb');
    const postgres = snapshots.get('postgres');
    expect(duck).toBeDefined();
    expect(postgres).toEqual(duck);
  });
});

describe.skipIf(!withPostgres)('ledger on PostgreSQL with several processes', () => {
  it('sets up the schema from several processes at once', async () => {
    const { warehouses, dispose } = await openPostgres(4);
    try {
      await Promise.all(
        warehouses.flatMap((w) => [
          new Ledger(w).setup(),
          new AutomationStore(w).setup(),
          new CheckStore(w).setup(),
        ]),
      );
      const [w] = warehouses as [Warehouse];
      const rows = await w.all<{ n: number }>(
        "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('runs', 'check_results', 'automation_ticks')",
      );
      expect(rows[0]?.n).toBe(3);
    } finally {
      await dispose();
    }
  }, 60_000);

  it('creates one run for a run key submitted by several processes at once', async () => {
    const { warehouses, dispose } = await openPostgres(4);
    try {
      await new Ledger(warehouses[0] as Warehouse).setup();
      const outcomes = await Promise.all(
        warehouses.flatMap((w) =>
          [1, 2].map(() =>
            new Ledger(w).createRunOnce(
              { trigger: 'sensor', selection: ['events'], range: null, fullRefresh: false, runKey: 'k:1' },
              'queued',
            ),
          ),
        ),
      );
      const ids = new Set(outcomes.map((o) => o.runId));
      expect(ids.size).toBe(1);
      expect(outcomes.filter((o) => !o.deduplicated)).toHaveLength(1);
      const rows = await (warehouses[0] as Warehouse).all<{ n: number }>(
        "SELECT count(*) AS n FROM runs WHERE run_key = 'k:1'",
      );
      expect(rows[0]?.n).toBe(1);
    } finally {
      await dispose();
    }
  }, 60_000);

  it('keeps one state row per instigator and unique tick ids across processes', async () => {
    const { warehouses, dispose } = await openPostgres(3);
    try {
      await new AutomationStore(warehouses[0] as Warehouse).setup();
      const tickIds = await Promise.all(
        warehouses.flatMap((w, i) =>
          [0, 1, 2].map(async (j) => {
            const store = new AutomationStore(w);
            await store.ensure('files', 'sensor', true);
            return store.commitTick({
              name: 'files',
              kind: 'sensor',
              startedAt: AT + i * 10 + j,
              finishedAt: AT + i * 10 + j,
              outcome: 'skipped',
              cursorBefore: null,
              cursorAfter: `c${i}${j}`,
              runIds: [],
            });
          }),
        ),
      );
      expect(new Set(tickIds).size).toBe(9);
      const w = warehouses[0] as Warehouse;
      expect(await w.all("SELECT count(*) AS n FROM automation_state WHERE name = 'files'")).toEqual([
        { n: 1 },
      ]);
    } finally {
      await dispose();
    }
  }, 60_000);

  it('replaces an asset cursor from several processes without duplicates', async () => {
    const { warehouses, dispose } = await openPostgres(3);
    try {
      await new Ledger(warehouses[0] as Warehouse).setup();
      await Promise.all(
        warehouses.map((w, i) => w.transaction((tx) => new Ledger(w).setCursor(tx, 'events', `c${i}`))),
      );
      const rows = await (warehouses[0] as Warehouse).all<{ cursor: Cell }>(
        "SELECT cursor FROM asset_cursors WHERE asset = 'events'",
      );
      expect(rows).toHaveLength(1);
      expect(['c0', 'c1', 'c2']).toContain(rows[0]?.cursor);
    } finally {
      await dispose();
    }
  }, 60_000);
});
