import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AssetTask, TaskContext, TaskOutcome } from '../../src/orchestrator/asset.js';
import { executeRun, type RunSummary } from '../../src/orchestrator/run-executor.js';
import type { Runtime } from '../../src/runtime.js';
import { PostgresWarehouse } from '../../src/warehouse/postgres/postgres-warehouse.js';
import type { Cell } from '../../src/warehouse/warehouse.js';
import { type TestPipeline, testPipeline } from '../support/pipeline.js';
import { postgresAvailable } from '../support/postgres.js';
import { tmpDir } from '../support/tmp.js';
import {
  FX_V1,
  FX_V2,
  ingestSnapshot,
  ingestSnapshotOf,
  seedFirstInput,
  seedSecondInput,
  writeFx,
} from './ingest-tables.js';

const SELECTION = { selection: ['billing_events'], withUpstream: true };
// A task per file, so every file's task can race its double (small files are batched by default).
process.env.BILLING_TEST_TASK_BATCH_FILES = '1';

/** Three "workers": separate PostgresWarehouse connections to one database, as separate processes have. */
async function openWorkers(url: string): Promise<PostgresWarehouse[]> {
  return Promise.all([1, 2, 3].map((i) => PostgresWarehouse.open({ url, applicationName: `worker-${i}` })));
}

function taskContext(runId: string, warehouse: PostgresWarehouse): TaskContext {
  return { runId, asset: 'billing_events', warehouse, signal: new AbortController().signal, log: () => {} };
}

/**
 * A dispatch like the job queue's, in process: every task at once, spread over the workers, and
 * the first two tasks a second time on another worker (a retried task racing the first attempt).
 */
function concurrentDispatch(runtime: Runtime, workers: readonly PostgresWarehouse[]) {
  const runs: { key: string; payload: Record<string, Cell>; result: Record<string, Cell> }[] = [];
  const dispatch = async (asset: string, tasks: readonly AssetTask[]): Promise<TaskOutcome[]> => {
    expect(asset).toBe('billing_events');
    const definition = runtime.graph.get(asset);
    const [run] = await runtime.warehouse.all<{ run_id: string }>(
      "SELECT run_id FROM runs WHERE status = 'running'",
    );
    const runId = run?.run_id ?? '';
    const attempt = async (task: AssetTask, worker: number): Promise<TaskOutcome> => {
      const warehouse = workers[worker % workers.length] as PostgresWarehouse;
      try {
        const result = await definition.runTask?.(taskContext(runId, warehouse), task.payload);
        runs.push({ key: task.key, payload: task.payload, result: result ?? {} });
        return { key: task.key, status: 'success', result: result ?? null, error: null };
      } catch (error) {
        return { key: task.key, status: 'failed', result: null, error: String(error) };
      }
    };
    const retries = tasks.slice(0, 2).map((t, i) => attempt(t, i + 1));
    const outcomes = await Promise.all(tasks.map((t, i) => attempt(t, i)));
    await Promise.all(retries);
    return outcomes;
  };
  return { dispatch, runs };
}

function eventsResult(summary: RunSummary) {
  const result = summary.assets.find((a) => a.asset === 'billing_events')?.result;
  // Timings, and how many files DuckDB parsed (the tasks' backend may parse in JS), are not results.
  const { parseMs: _p, insertMs: _i, nativeFiles: _n, ...metadata } = result?.metadata ?? {};
  // Embedded, files commit in the order they finish parsing: compare each partition's inputs as a set.
  const partitions = result?.partitions.map((p) => ({ ...p, inputs: [...(p.inputs ?? [])].sort() }));
  return { changed: result?.changed, partitions, failure: result?.failure, metadata };
}

describe.skipIf(!postgresAvailable())('billing_events tasks on concurrent PostgreSQL workers', () => {
  let close: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of close) await c();
    close = [];
  });

  async function runWithDispatch(p: TestPipeline, workers: readonly PostgresWarehouse[]) {
    const runtime = await p.open();
    close.push(() => runtime.close());
    const { dispatch, runs } = concurrentDispatch(runtime, workers);
    const summary = await executeRun({
      graph: runtime.graph,
      ledger: runtime.ledger,
      warehouse: runtime.warehouse,
      request: { trigger: 'test', ...SELECTION },
      dispatch,
    });
    return { summary, runs, runtime };
  }

  it('load each file once, whatever runs twice, into the same tables as an embedded DuckDB run', async () => {
    const fx = join(await tmpDir('dispatch-fx'), 'rates.csv');
    await writeFx(fx, FX_V1);
    const duck = await testPipeline('dispatch-duckdb', { backend: 'duckdb', fx });
    const pg = await testPipeline('dispatch-postgres', { backend: 'postgres', source: duck.source, fx });
    const url = pg.env.BILLING_DATABASE_URL as string;
    const workers = await openWorkers(url);
    close.push(async () => {
      for (const w of workers) await w.close();
    });

    await seedFirstInput(duck);
    const embedded = await duck.materialize(SELECTION);
    const first = await runWithDispatch(pg, workers);
    expect(first.summary.assets.map((a) => a.status)).toEqual(['success', 'success', 'success']);
    expect(eventsResult(first.summary)).toEqual(eventsResult(embedded));
    // Every file was a task; the duplicates ran too, and loaded nothing a second time.
    const keys = first.runs.map((r) => r.key);
    expect(new Set(keys).size).toBe(11);
    expect(keys.length).toBe(13);
    const twice = [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))];
    for (const key of twice) {
      const results = first.runs.filter((r) => r.key === key).map((r) => r.result);
      expect(results.filter((r) => r.alreadyDone === true)).toHaveLength(1);
      expect(results[0]?.rows).toBe(results[1]?.rows);
    }
    const [files] = await first.runtime.warehouse.all<{ loaded: number; sources: number }>(
      "SELECT count(*) FILTER (WHERE status = 'loaded') AS loaded, count(DISTINCT source_key) AS sources FROM billing_files",
    );
    expect(files).toEqual({ loaded: 10, sources: 11 });
    const expected = await ingestSnapshotOf(duck);
    expect(await ingestSnapshot(first.runtime.warehouse)).toEqual(expected);

    // A task run again after the run (a worker died after committing): a no-op.
    const again = await first.runtime.graph
      .get('billing_events')
      .runTask?.(taskContext('another-run', workers[2] as PostgresWarehouse), first.runs[0]?.payload ?? {});
    expect(again).toMatchObject({ alreadyDone: true });
    expect(await ingestSnapshot(first.runtime.warehouse)).toEqual(expected);

    // Replacements, a new day and re-normalization after a new FX file, through tasks again.
    await seedSecondInput(duck);
    await writeFx(fx, FX_V2);
    const embeddedAgain = await duck.materialize(SELECTION);
    const second = await runWithDispatch(pg, workers);
    expect(eventsResult(second.summary)).toEqual(eventsResult(embeddedAgain));
    expect(await ingestSnapshot(second.runtime.warehouse)).toEqual(await ingestSnapshotOf(duck));
    const [doubled] = await second.runtime.warehouse.all<{ n: number }>(
      'SELECT count(*) AS n FROM (SELECT source_key, source_line FROM billing_events GROUP BY 1, 2 HAVING count(*) > 1) d',
    );
    expect(doubled?.n).toBe(0);
  });
});
