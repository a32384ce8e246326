import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AssetContext, AssetDefinition } from '../../src/orchestrator/asset.js';
import { AssetGraph } from '../../src/orchestrator/asset-graph.js';
import { AutomationStore } from '../../src/orchestrator/automation-store.js';
import { Backfills } from '../../src/orchestrator/backfill.js';
import { Ledger } from '../../src/orchestrator/ledger.js';
import { RunQueue } from '../../src/orchestrator/run-queue.js';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { tmpDir } from '../support/tmp.js';

/** A gate an asset waits at, so a test decides when a run moves on. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

interface World {
  warehouse: Warehouse;
  ledger: Ledger;
  graph: AssetGraph;
  queue: RunQueue;
  calls: { asset: string; range: string | null }[];
  close(): Promise<void>;
}

/**
 * Two assets, `first` -> `second`, on a real DuckDB file. `first` waits at `hold` when given and
 * fails for the days in `failDays`.
 */
async function world(
  options: { file?: string; hold?: Promise<void>; failDays?: string[]; started?: () => void } = {},
): Promise<World> {
  const file = options.file ?? path.join(await tmpDir('queue'), 'w.duckdb');
  const warehouse = await openWarehouse({ path: file, threads: 1 });
  const ledger = new Ledger(warehouse);
  await ledger.setup();
  await new AutomationStore(warehouse).setup();
  const calls: World['calls'] = [];
  const asset = (name: string, deps: string[]): AssetDefinition => ({
    name,
    description: name,
    deps,
    partitioning: 'daily',
    async materialize(ctx: AssetContext) {
      calls.push({ asset: name, range: ctx.range ? `${ctx.range.from}..${ctx.range.to}` : null });
      if (name === 'first') {
        options.started?.();
        if (options.hold) await options.hold;
        if (ctx.range && options.failDays?.includes(ctx.range.from))
          throw new Error(`no data for ${ctx.range.from}`);
      }
      return { changed: true, partitions: [] };
    },
  });
  const graph = new AssetGraph([asset('first', []), asset('second', ['first'])]);
  const queue = new RunQueue({ graph, ledger, warehouse });
  return {
    warehouse,
    ledger,
    graph,
    queue,
    calls,
    async close() {
      await queue.stop();
      await warehouse.close();
    },
  };
}

const runRow = async (w: World, runId: string) => {
  const [row] = await w.warehouse.all<{
    status: string;
    created_at: string;
    started_at: string | null;
    finished_at: string | null;
    error: string | null;
    trigger: string;
  }>('SELECT status, created_at, started_at, finished_at, error, trigger FROM runs WHERE run_id = $1', [
    runId,
  ]);
  return row;
};

describe('run queue', () => {
  it('never launches a second run for a run key, even when two requests race', async () => {
    const w = await world();
    try {
      const [a, b] = await Promise.all([
        w.queue.submit({ trigger: 'test', runKey: 'k1' }),
        w.queue.submit({ trigger: 'test', runKey: 'k1' }),
      ]);
      expect(a.deduplicated).toBe(false);
      expect(b).toEqual({ runId: a.runId, deduplicated: true });
      expect(await w.warehouse.all("SELECT count(*) AS n FROM runs WHERE run_key = 'k1'")).toEqual([
        { n: 1 },
      ]);
    } finally {
      await w.close();
    }
  });

  it('runs one at a time: queued -> running -> success, with timestamps in order', async () => {
    const hold = gate();
    const started = gate();
    const w = await world({ hold: hold.opened, started: started.open });
    try {
      await w.queue.start();
      const one = await w.queue.submit({ trigger: 'test' });
      const two = await w.queue.submit({ trigger: 'test' });
      await started.opened;
      expect((await runRow(w, one.runId))?.status).toBe('running');
      expect(await runRow(w, two.runId)).toMatchObject({ status: 'queued', started_at: null });
      hold.open();
      await w.queue.idle();
      for (const id of [one.runId, two.runId]) {
        const row = await runRow(w, id);
        expect(row?.status).toBe('success');
        expect((row?.created_at ?? '\uffff') <= (row?.started_at ?? '')).toBe(true);
        expect((row?.started_at ?? '') <= (row?.finished_at ?? '')).toBe(true);
      }
      expect((await runRow(w, two.runId))?.started_at).not.toBeNull();
      expect(
        ((await runRow(w, two.runId))?.started_at ?? '') >= ((await runRow(w, one.runId))?.finished_at ?? ''),
      ).toBe(true);
    } finally {
      await w.close();
    }
  });

  it('cancels a queued run outright and a running one at the next asset boundary', async () => {
    const hold = gate();
    const started = gate();
    const w = await world({ hold: hold.opened, started: started.open });
    try {
      await w.queue.start();
      const running = await w.queue.submit({ trigger: 'test' });
      const waiting = await w.queue.submit({ trigger: 'test' });
      await started.opened;
      expect(await w.queue.cancel(waiting.runId)).toBe(true);
      expect(await runRow(w, waiting.runId)).toMatchObject({ status: 'canceled', started_at: null });
      expect(await w.queue.cancel(running.runId)).toBe(true);
      hold.open();
      await w.queue.idle();
      expect((await runRow(w, running.runId))?.status).toBe('canceled');
      // `first` finished (committed work stays), `second` never started.
      expect(w.calls.map((c) => c.asset)).toEqual(['first']);
      expect(await w.queue.cancel(running.runId)).toBe(false);
    } finally {
      await w.close();
    }
  });

  it('keeps queued runs across a restart and starts them on the next start', async () => {
    const file = path.join(await tmpDir('queue-persist'), 'w.duckdb');
    const before = await world({ file });
    const { runId } = await before.queue.submit({
      trigger: 'test',
      range: { from: '2025-01-02', to: '2025-01-02' },
    });
    await before.close();
    const after = await world({ file });
    try {
      await after.queue.start();
      await after.queue.idle();
      expect((await runRow(after, runId))?.status).toBe('success');
      expect(after.calls).toEqual([
        { asset: 'first', range: '2025-01-02..2025-01-02' },
        { asset: 'second', range: '2025-01-02..2025-01-02' },
      ]);
    } finally {
      await after.close();
    }
  });

  it('re-queues the run a shutdown interrupted, and runs interactive work before backfills', async () => {
    const hold = gate();
    const started = gate();
    const w = await world({ hold: hold.opened, started: started.open });
    try {
      await w.queue.start();
      const { runId } = await w.queue.submit({ trigger: 'test' });
      await started.opened;
      const stopped = w.queue.stop({ requeue: true });
      hold.open();
      await stopped;
      expect((await runRow(w, runId))?.status).toBe('canceled');
      const resumed = await w.ledger.queuedRuns();
      expect(resumed).toHaveLength(1);
      expect(resumed[0]).toMatchObject({ trigger: 'resume' });
      expect(JSON.parse(resumed[0]?.tags ?? '{}')).toMatchObject({
        resumed_from: runId,
        resume_attempt: '1',
      });
    } finally {
      await w.close();
    }
    const order = await world();
    try {
      await order.queue.submitMany([
        { trigger: 'backfill', range: { from: '2025-01-01', to: '2025-01-01' } },
      ]);
      await order.queue.submit({ trigger: 'sensor:s', range: { from: '2025-02-01', to: '2025-02-01' } });
      expect(order.queue.queuedIds).toHaveLength(2);
      await order.queue.start();
      await order.queue.idle();
      expect(order.calls.filter((c) => c.asset === 'first').map((c) => c.range)).toEqual([
        '2025-02-01..2025-02-01',
        '2025-01-01..2025-01-01',
      ]);
    } finally {
      await order.close();
    }
  });
});

describe('backfills', () => {
  it('tracks one run per day, with per-partition status, cancel and re-execution of failures', async () => {
    const w = await world({ failDays: ['2025-03-02'] });
    const backfills = new Backfills({
      warehouse: w.warehouse,
      launcher: w.queue,
      allAssets: ['first', 'second'],
    });
    try {
      const id = await backfills.create({ range: { from: '2025-02-27', to: '2025-03-03' } });
      const queued = await backfills.get(id);
      expect(queued?.backfill).toMatchObject({
        status: 'queued',
        partitions_total: 5,
        partition_from: '2025-02-27',
      });
      expect(queued?.partitions.map((p) => p.partition)).toEqual([
        '2025-02-27',
        '2025-02-28',
        '2025-03-01',
        '2025-03-02',
        '2025-03-03',
      ]);
      await w.queue.start();
      await w.queue.idle();
      const done = await backfills.get(id);
      expect(done?.backfill.status).toBe('failed');
      expect(done?.backfill.counts).toMatchObject({ success: 4, failed: 1 });
      expect(done?.partitions.find((p) => p.partition === '2025-03-02')?.status).toBe('failed');

      // The data arrives; re-executing touches only the failed day.
      await w.close();
      const fixed = await world({ file: w.warehouse.location });
      const again = new Backfills({
        warehouse: fixed.warehouse,
        launcher: fixed.queue,
        allAssets: ['first', 'second'],
      });
      const runIds = await again.reexecuteFailed(id);
      expect(runIds).toHaveLength(1);
      await fixed.queue.start();
      await fixed.queue.idle();
      expect(fixed.calls.map((c) => c.range)).toEqual(['2025-03-02..2025-03-02', '2025-03-02..2025-03-02']);
      const after = await again.get(id);
      expect(after?.backfill.status).toBe('success');
      expect(after?.partitions.find((p) => p.partition === '2025-03-02')).toMatchObject({
        attempt: 2,
        run_id: runIds?.[0],
      });
      expect((await again.list())[0]?.backfill_id).toBe(id);

      // Cancel: every partition still queued is canceled; the backfill says so. A queue that has not
      // been started keeps all twenty queued, so the count does not depend on timing.
      await fixed.close();
      const paused = await world({ file: w.warehouse.location });
      const slow = new Backfills({ warehouse: paused.warehouse, launcher: paused.queue, allAssets: [] });
      const second = await slow.create({ range: { from: '2025-01-01', to: '2025-01-20' } });
      expect(await slow.cancel(second)).toBe(20);
      await paused.queue.start();
      await paused.queue.idle();
      expect(paused.calls).toEqual([]);
      const canceled = await slow.get(second);
      expect(canceled?.backfill.status).toBe('canceled');
      expect(canceled?.backfill.counts.canceled).toBe(20);
      await paused.close();
    } catch (error) {
      await w.close().catch(() => {});
      throw error;
    }
  });

  it('refuses ranges longer than ten years with a clear message', async () => {
    const w = await world();
    try {
      const backfills = new Backfills({ warehouse: w.warehouse, launcher: w.queue, allAssets: [] });
      await expect(backfills.create({ range: { from: '2000-01-01', to: '2025-01-01' } })).rejects.toThrow(
        /at most 3660 days; 2000-01-01..2025-01-01 is 9133 days/,
      );
    } finally {
      await w.close();
    }
  });
});
