import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGGREGATES } from '../../src/billing/aggregates/index.js';
import { markForRetraction } from '../../src/billing/retract.js';
import type { Runtime } from '../../src/runtime.js';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { seededRandom } from '../support/random.js';
import { tmpDir } from '../support/tmp.js';

const DAYS = ['2025-04-20', '2025-04-21', '2025-04-22', '2025-04-23'];
const pick = <T>(r: () => number, values: readonly T[]): T => values[Math.floor(r() * values.length)] as T;

/** A file's rows: few users, resources and regions (NULL among them) so values recur across days. */
function fileBody(r: () => number, day: string): string {
  const n = Math.floor(r() * 6);
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    // Some events land on a neighbouring UTC day (late or early), as real files' do.
    const shift = r() < 0.2 ? -1 : 0;
    const date = new Date(`${day}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() + shift);
    const hour = String(Math.floor(r() * 24)).padStart(2, '0');
    rows.push(
      row({
        timestamp: `${date.toISOString().slice(0, 10)}T${hour}:${String(Math.floor(r() * 60)).padStart(2, '0')}:00Z`,
        user_id: String(1 + Math.floor(r() * 5)),
        resource_id: `res-${Math.floor(r() * 4)}`,
        region: pick(r, ['us-east-1', 'eu-west-1', '']),
        service_tier: pick(r, ['standard', 'premium']),
        operation_type: pick(r, ['compute', 'read', 'write']),
        resource_type: pick(r, ['vm', 'bucket']),
        success: r() < 0.8 ? 'true' : 'false',
        credit_usage: (Math.floor(r() * 2_000_000) / 1_000_000 - (r() < 0.1 ? 3 : 0)).toFixed(6),
        // CHF has no rate in the test FX file: those events stay unnormalized.
        currency: pick(r, ['USD', 'EUR', 'USD', 'CHF']),
      }),
    );
  }
  return csv(...rows);
}

const keyList = (def: (typeof AGGREGATES)[number]) => def.keys.map((k) => `"${k.column}"`).join(', ');
const order = (def: (typeof AGGREGATES)[number]) => def.keys.map((_, i) => `${i + 1} NULLS FIRST`).join(', ');

/** Each aggregate as a full recompute from billing_events, next to the table the pipeline keeps. */
async function compareAll(runtime: Runtime, context: string, where = 'true'): Promise<void> {
  for (const def of AGGREGATES) {
    // Into a temp copy of the table's columns, so both sides carry the same types on both engines.
    const expected = await runtime.warehouse.transaction(async (tx) => {
      await tx.exec(`CREATE TEMP TABLE recomputed AS SELECT * FROM ${def.name} WHERE false`);
      await tx.exec(
        `INSERT INTO recomputed SELECT ${def.keys.map((k) => `e."${k.column}"`).join(', ')}, ${def.measures}
         FROM billing_events e WHERE ${where} GROUP BY ${keyList(def)}`,
      );
      const rows = await tx.all(`SELECT * FROM recomputed ORDER BY ${order(def)}`);
      await tx.exec('DROP TABLE recomputed');
      return rows;
    });
    const actual = await runtime.warehouse.all(`SELECT * FROM ${def.name} ORDER BY ${order(def)}`);
    expect(actual, `${def.name} after ${context}`).toEqual(expected);
  }
}

async function reconciliationFailures(runtime: Runtime, runId: string) {
  return runtime.warehouse.all(
    `SELECT asset, message FROM check_results
     WHERE run_id = '${runId}' AND check_name = 'reconciliation' AND NOT passed`,
  );
}

describe('merged whole-history aggregates', () => {
  it('equal a full recompute over a random history of loads, corrections, retractions and reprocesses', async () => {
    const folder = await tmpDir('merged-src');
    const p = await testPipeline('merged', { source: folder });
    const r = seededRandom(20261202);
    const files: string[] = [];
    const ops: string[] = [];
    // One runtime for the whole history: opening DuckDB per step would dominate the test's time.
    const runtime = await p.open();
    try {
      // Every kind of change, in a seeded order after two loads.
      const kinds = [
        'add',
        'add',
        'add',
        'correct',
        'correct',
        'empty',
        'retract',
        'retract',
        'force',
        'force',
        'full',
      ];
      for (let i = kinds.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [kinds[i], kinds[j]] = [kinds[j] as string, kinds[i] as string];
      }
      const actions = ['add', 'add', ...kinds];
      for (let step = 0; step < actions.length; step++) {
        const action = actions[step] as string;
        let request: Parameters<Runtime['materialize']>[0] = { trigger: 'test' };
        if (action === 'retract' && files.length > 0) {
          const key = pick(r, files);
          files.splice(files.indexOf(key), 1);
          ops.push(`retract ${key}`);
          request = await markForRetraction(runtime.warehouse, runtime.graph, [key]);
        } else if (action === 'force') {
          const from = pick(r, DAYS);
          ops.push(`force ${from}`);
          request = { trigger: 'test', range: { from, to: DAYS[DAYS.length - 1] as string } };
        } else if (action === 'full') {
          ops.push('full refresh');
          request = { trigger: 'test', fullRefresh: true };
        } else if ((action === 'correct' || action === 'empty') && files.length > 0) {
          const key = pick(r, files);
          const day = /day=(\d+)/.exec(key)?.[1] ?? '20';
          ops.push(`${action} ${key}`);
          await p.put(key, action === 'empty' ? csv() : fileBody(r, `2025-04-${day}`));
        } else {
          for (let i = 0; i < 1 + Math.floor(r() * 3); i++) {
            const day = pick(r, DAYS);
            const key = `year=2025/month=04/day=${day.slice(8)}/f${step}-${i}.csv`;
            files.push(key);
            ops.push(`add ${key}`);
            await p.put(key, fileBody(r, day));
          }
        }
        const summary = await runtime.materialize(request);
        if (request.trigger === 'retract') {
          const key = ops[ops.length - 1]?.slice('retract '.length) ?? '';
          await rm(path.join(folder, key));
        }
        expect(await reconciliationFailures(runtime, summary.runId), ops.join('; ')).toEqual([]);
        await compareAll(runtime, ops.join('; '));
      }
      expect(new Set(ops.map((o) => o.split(' ')[0])).size, ops.join('; ')).toBe(6);

      // A partition failing an error check (an event without currency) is left out of every
      // aggregate, and merged back in once its file is fixed.
      const held = 'year=2025/month=04/day=22/held.csv';
      await p.put(held, csv(row({ timestamp: '2025-04-22T05:00:00Z', user_id: '9', currency: '' })));
      await runtime.materialize({ trigger: 'test' });
      expect(
        await runtime.warehouse.all(
          `SELECT (SELECT count(*) FROM billing_events WHERE source_key = '${held}') AS loaded,
             (SELECT count(*) FROM user_aggregates WHERE user_id = 9) AS aggregated`,
        ),
      ).toEqual([{ loaded: 1, aggregated: 0 }]);
      await compareAll(runtime, 'a withheld partition', 'NOT (e.year = 2025 AND e.month = 4 AND e.day = 22)');
      await p.put(held, csv(row({ timestamp: '2025-04-22T05:00:00Z', user_id: '9' })));
      await runtime.materialize({ trigger: 'test' });
      await compareAll(runtime, 'the partition released');
      // The state a merge keeps is exact: a full rebuild of it changes nothing.
      const before = await runtime.warehouse.all('SELECT * FROM user_aggregates ORDER BY user_id');
      await runtime.materialize({ trigger: 'test', fullRefresh: true });
      expect(await runtime.warehouse.all('SELECT * FROM user_aggregates ORDER BY user_id')).toEqual(before);
    } finally {
      await runtime.close();
    }
  }, 120_000);

  it('merges a new day without rebuilding the other keys from history', async () => {
    const p = await testPipeline('merged-day');
    await p.put(
      'year=2025/month=04/day=20/a.csv',
      csv(row({ timestamp: '2025-04-20T10:00:00Z', user_id: '1' })),
    );
    await p.materialize();
    await p.put(
      'year=2025/month=04/day=21/b.csv',
      csv(row({ timestamp: '2025-04-21T10:00:00Z', user_id: '2' })),
    );
    const run = await p.materialize();
    const users = run.assets.find((a) => a.asset === 'user_aggregates')?.result?.metadata;
    // Only user 2's key was touched: user 1's row was left as it was.
    expect(users).toMatchObject({ groupsRebuilt: 1, merged: true, full: false });
    const runtime = await p.open();
    try {
      await compareAll(runtime, 'a second day');
    } finally {
      await runtime.close();
    }
  });

  it('fail their reconciliation when the kept state drifts from the table', async () => {
    const p = await testPipeline('merged-drift');
    await p.put(
      'year=2025/month=04/day=20/a.csv',
      csv(row({ timestamp: '2025-04-20T10:00:00Z', user_id: '1' })),
    );
    expect((await p.materialize()).status).toBe('success');
    const runtime = await p.open();
    try {
      // Behind the pipeline's back: the per-day partials no longer add up to the table.
      await runtime.warehouse.exec('UPDATE user_aggregates__days SET event_count = event_count + 2');
      await p.put(
        'year=2025/month=04/day=21/b.csv',
        csv(row({ timestamp: '2025-04-21T10:00:00Z', user_id: '2' })),
      );
      const run = await runtime.materialize({ trigger: 'test' });
      expect(run.status).toBe('failed');
      expect(run.error).toContain(
        'user_aggregates: check reconciliation (error) failed: event count 2 in user_aggregates, 4 in billing_events',
      );
    } finally {
      await runtime.close();
    }
  });
});
