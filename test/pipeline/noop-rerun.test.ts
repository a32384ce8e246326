import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import type { SqlSession, Warehouse } from '../../src/warehouse/warehouse.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

const DOWNSTREAM = [
  'billing_events',
  'daily_aggregates',
  'user_aggregates',
  'service_aggregates',
  'region_aggregates',
  'currency_aggregates',
  'user_daily_aggregates',
  'region_daily_aggregates',
  'billing_insights',
];

/** `days` days from 2025-01-01, `perDay` one-row files each, in a local folder source. */
async function folderSource(days: number, perDay: number): Promise<string> {
  const root = await tmpDir('noop-source');
  for (let d = 0; d < days; d++) {
    const day = new Date(Date.UTC(2025, 0, 1) + d * 86_400_000).toISOString().slice(0, 10);
    const [y, m, dd] = day.split('-');
    const dir = path.join(root, `year=${y}`, `month=${m}`, `day=${dd}`);
    await mkdir(dir, { recursive: true });
    for (let f = 0; f < perDay; f++) {
      const line = row({ timestamp: `${day}T10:00:00Z`, user_id: String((d * perDay + f) % 13) });
      await writeFile(path.join(dir, `part-${f}.csv`), csv(line));
    }
  }
  return root;
}

/**
 * Every statement the pipeline sends while `fn` runs, outermost calls only (a session's `all` may
 * call its own `query`): a test-side counter around the warehouse and its transactions.
 */
async function statementsDuring<T>(
  runtime: Runtime,
  fn: () => Promise<T>,
): Promise<{ result: T; sql: string[] }> {
  const sql: string[] = [];
  const nested = new AsyncLocalStorage<boolean>();
  const wrap = (session: SqlSession) => {
    for (const method of ['exec', 'all', 'query'] as const) {
      const original = session[method].bind(session) as (text: string, params?: unknown) => Promise<unknown>;
      Object.assign(session, {
        [method]: (text: string, params?: unknown) => {
          if (!nested.getStore()) sql.push(text.replace(/\s+/g, ' '));
          return nested.run(true, () => original(text, params));
        },
      });
    }
  };
  const warehouse: Warehouse = runtime.warehouse;
  wrap(warehouse);
  const transaction = warehouse.transaction.bind(warehouse);
  Object.assign(warehouse, {
    transaction: <R>(body: (tx: SqlSession) => Promise<R>) =>
      transaction((tx) => {
        wrap(tx);
        return nested.run(false, () => body(tx));
      }),
  });
  const result = await fn();
  return { result, sql };
}

async function lastRunAssets(p: TestPipeline) {
  const rows = await p.rows(
    `SELECT asset, status, changed, metadata FROM asset_runs
     WHERE run_id = (SELECT run_id FROM runs ORDER BY created_at DESC LIMIT 1) ORDER BY asset`,
  );
  return new Map(
    rows.map((r) => [
      String(r.asset),
      { status: r.status, changed: r.changed, metadata: JSON.parse(String(r.metadata ?? '{}')) },
    ]),
  );
}

const writes = (sql: readonly string[]) =>
  sql.filter((s) => /^\s*(INSERT|UPDATE|DELETE|MERGE|COPY)\b/i.test(s));
const writeTarget = (s: string) => /^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)/i.exec(s)?.[1] ?? s;

describe('a no-op rerun', () => {
  it('diffs a 480-file listing in one query, writes no file row, and skips what is downstream with a reason', async () => {
    const source = await folderSource(120, 4);
    const p = await testPipeline('noop-many', { source });
    const first = await p.materialize();
    expect(first.status).toBe('success');
    const filesBefore = await p.rows('SELECT * FROM billing_files ORDER BY source_key');
    expect(filesBefore).toHaveLength(480);

    const runtime = await p.open();
    let rerun: Awaited<ReturnType<Runtime['materialize']>>;
    let sql: string[];
    try {
      ({ result: rerun, sql } = await statementsDuring(runtime, () =>
        runtime.materialize({ trigger: 'test' }),
      ));
    } finally {
      await runtime.close();
    }
    expect(rerun.status).toBe('success');
    expect(rerun.assets.every((a) => a.status === 'success' && a.result?.changed === false)).toBe(true);

    // The inventory: one diff query over the staged listing, no per-file statement, no row written.
    expect(sql.filter((s) => s.includes('FROM source_listing')).length).toBe(1);
    expect(sql.length).toBeLessThan(80);
    expect(writes(sql).map(writeTarget)).not.toContain('billing_files');
    expect(await p.rows('SELECT * FROM billing_files ORDER BY source_key')).toEqual(filesBefore);

    // The ledger: every asset run of the run in one INSERT, no materialization rows.
    const ledgerWrites = writes(sql).map(writeTarget);
    expect(ledgerWrites.filter((t) => t === 'asset_runs')).toHaveLength(1);
    expect(ledgerWrites).not.toContain('materializations');
    const [materializations] = await p.rows(
      `SELECT count(*) AS n FROM materializations WHERE run_id = '${rerun.runId}'`,
    );
    expect(Number(materializations?.n)).toBe(0);

    const assets = await lastRunAssets(p);
    expect(assets.get('billing_files')?.metadata).toMatchObject({
      listed: 480,
      toLoad: 0,
      diff: 'unchanged',
    });
    for (const name of DOWNSTREAM) {
      expect(assets.get(name), name).toMatchObject({ status: 'success', changed: false });
      expect(assets.get(name)?.metadata.skipped, name).toBe(true);
      expect(String(assets.get(name)?.metadata.reason), name).toMatch(/^up to date: /);
    }
  }, 180_000);

  it('still runs what follows an unclean run, a forced range or a new file', async () => {
    const source = await folderSource(3, 2);
    const p = await testPipeline('noop-guards', { source });
    expect((await p.materialize()).status).toBe('success');
    expect((await p.materialize()).status).toBe('success');
    expect((await lastRunAssets(p)).get('user_aggregates')?.metadata.skipped).toBe(true);

    // A run that died after committing data leaves no trace of the data in the ledger: after any
    // failed run, downstream assets look at their inputs again instead of trusting the ledger.
    const runtime = await p.open();
    try {
      const id = await runtime.ledger.createRun({
        trigger: 'test',
        selection: [],
        range: null,
        fullRefresh: false,
      });
      await runtime.ledger.finishRun(id, 'failed', 'died');
    } finally {
      await runtime.close();
    }
    await p.materialize();
    let assets = await lastRunAssets(p);
    for (const name of DOWNSTREAM) expect(assets.get(name)?.metadata.skipped, name).toBeUndefined();
    // That clean run makes the next no-op fast again.
    await p.materialize();
    expect((await lastRunAssets(p)).get('user_aggregates')?.metadata.skipped).toBe(true);

    // A forced range reprocesses, whatever the ledger says.
    await p.materialize({ range: { from: '2025-01-02', to: '2025-01-02' } });
    assets = await lastRunAssets(p);
    expect(assets.get('daily_aggregates')?.metadata.skipped).toBeUndefined();

    // A new file: loaded, and the aggregates follow it.
    await writeFile(
      path.join(source, 'year=2025', 'month=01', 'day=02', 'late.csv'),
      csv(row({ timestamp: '2025-01-02T11:00:00Z', user_id: '4242' })),
    );
    const changed = await p.materialize();
    expect(changed.status).toBe('success');
    assets = await lastRunAssets(p);
    expect(assets.get('billing_files')?.metadata).toMatchObject({ new: 1, diff: 'applied' });
    expect(assets.get('user_aggregates')?.metadata.skipped).toBeUndefined();
    const users = await p.rows("SELECT event_count FROM user_aggregates WHERE user_id = '4242'");
    expect(users.map((u) => Number(u.event_count))).toEqual([1]);
  }, 120_000);
});
