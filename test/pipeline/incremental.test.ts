import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generate } from '../../src/billing/generate/generator.js';
import { createSource } from '../../src/sources/create-source.js';
import { csv, row, snapshot, type TestPipeline, testPipeline } from '../support/pipeline.js';

async function seed(
  p: TestPipeline,
  from: string,
  to: string,
  seedValue: number,
  rowsPerDay = 400,
): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'seed-'));
  const sink = createSource(p.source, p.env);
  try {
    await generate(
      { from, to, rowsPerDay, seed: seedValue, dirtyRate: 0.01, filesPerDay: 2, tmpDir: tmp },
      (key, path) => sink.putFile(key, path),
    );
  } finally {
    await sink.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

describe('incremental runs', () => {
  it('give the same tables as a full recompute after new days, late files and corrected re-uploads', async () => {
    const p = await testPipeline('incremental');
    await seed(p, '2025-03-28', '2025-04-03', 1);
    expect((await p.materialize()).status).toBe('success');

    // New days, a late file in an old partition, and a corrected re-upload of an existing file.
    await seed(p, '2025-04-04', '2025-04-05', 2);
    await p.put(
      'year=2025/month=03/day=30/late.csv',
      csv(row({ timestamp: '2025-03-30T12:00:00Z', user_id: '999', region: 'mars-1' })),
    );
    await p.put(
      'year=2025/month=04/day=01/billing-2025-04-01-part-000.csv',
      csv(row({ timestamp: '2025-04-01T00:00:01Z', user_id: '1001' })),
    );
    const incremental = await p.materialize();
    expect(incremental.status).toBe('success');
    const events = incremental.assets.find((a) => a.asset === 'billing_events')?.result?.metadata;
    expect(events?.files).toBe(6);
    const daily = incremental.assets.find((a) => a.asset === 'daily_aggregates')?.result;
    // Only the touched days were rebuilt, not all ten.
    expect(daily?.partitions.map((x) => x.partition).sort()).toEqual(
      expect.arrayContaining(['2025-03-30', '2025-04-01', '2025-04-04', '2025-04-05']),
    );
    expect(daily?.partitions.length).toBeLessThan(9);
    const afterIncremental = await snapshot(p);

    // The same source from scratch, and a full refresh in place, must agree to the last digit.
    const fresh = await testPipeline('incremental-fresh', { source: p.source });
    await fresh.materialize();
    expect(await snapshot(fresh)).toEqual(afterIncremental);
    await p.materialize({ fullRefresh: true });
    expect(await snapshot(p)).toEqual(afterIncremental);

    const mars = await p.rows(
      "SELECT event_count, unique_users FROM region_aggregates WHERE region = 'mars-1'",
    );
    expect(mars).toEqual([{ event_count: 1, unique_users: 1 }]);
  });

  it('is idempotent: re-running, forcing a range and backfilling leave the same tables', async () => {
    const p = await testPipeline('idempotent');
    await seed(p, '2025-04-01', '2025-04-04', 3);
    await p.materialize();
    const first = await snapshot(p);
    const rerun = await p.materialize();
    expect(rerun.assets.every((a) => a.result?.changed === false)).toBe(true);
    await p.materialize({ range: { from: '2025-04-02', to: '2025-04-03' } });
    expect(await snapshot(p)).toEqual(first);
    await p.materialize({ range: { from: '2025-04-01', to: '2025-04-04' }, trigger: 'backfill' });
    expect(await snapshot(p)).toEqual(first);
    const [count] = await p.rows(
      'SELECT count(*) AS n, count(DISTINCT (source_key, source_line)) AS d FROM billing_events',
    );
    expect(count?.n).toBe(count?.d);
    const [forced] = await p.rows(
      "SELECT count(*) AS n FROM materializations WHERE asset = 'billing_events' AND partition IN ('2025-04-02', '2025-04-03')",
    );
    expect(forced?.n).toBe(6);

    // A range on billing_events alone (no billing_files in the run) reprocesses those days too.
    const alone = await p.materialize({
      selection: ['billing_events'],
      range: { from: '2025-04-04', to: '2025-04-04' },
    });
    expect(alone.assets.map((a) => a.asset)).toEqual(['billing_events']);
    expect(alone.assets[0]?.result?.metadata).toMatchObject({ loadedFiles: 2 });
    await p.materialize();
    expect(await snapshot(p)).toEqual(first);
  });

  it('replaces a re-uploaded file instead of adding to it', async () => {
    const p = await testPipeline('reupload');
    const key = 'year=2025/month=04/day=23/a.csv';
    await p.put(
      key,
      csv(row({ credit_usage: '10' }), row({ credit_usage: '20' }), row({ credit_usage: '30' })),
    );
    await p.materialize();
    await p.put(key, csv(row({ credit_usage: '5.5' })));
    await p.materialize();
    expect(await p.rows('SELECT event_count, total_credit_usage FROM daily_aggregates')).toEqual([
      { event_count: 1, total_credit_usage: '5.500000' },
    ]);
    const [file] = await p.rows(
      'SELECT count(*) AS loads FROM materializations WHERE asset = $$billing_events$$',
    );
    expect(file?.loads).toBe(2);
  });
});

describe('exact money', () => {
  it('sums to the last decimal digit where floating point would drift', async () => {
    const p = await testPipeline('money');
    const rows: string[] = [];
    let micros = 0n;
    for (let i = 0; i < 1000; i++) {
      const value = i % 3 === 0 ? '0.100000' : i % 3 === 1 ? '0.200000' : '999999999999.999999';
      rows.push(row({ user_id: String(i % 7), credit_usage: value }));
      micros += BigInt(value.replace('.', ''));
    }
    await p.put('year=2025/month=04/day=23/m.csv', csv(...rows));
    await p.materialize();
    const expected = `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
    const [daily] = await p.rows('SELECT total_credit_usage, avg_credit_usage FROM daily_aggregates');
    expect(daily?.total_credit_usage).toBe(expected);
    // avg = total / 1000 rounded half away from zero at 6 digits, computed with integers.
    const avg = (micros * 10n + 5000n) / 10000n;
    expect(daily?.avg_credit_usage).toBe(
      `${avg / 1_000_000n}.${(avg % 1_000_000n).toString().padStart(6, '0')}`,
    );
    const [users] = await p.rows('SELECT sum(total_credit_usage) AS s FROM user_aggregates');
    expect(users?.s).toBe(expected);
    const types = await p.rows(
      "SELECT column_name, data_type FROM information_schema.columns WHERE data_type IN ('DOUBLE', 'FLOAT') AND column_name LIKE '%credit%'",
    );
    expect(types).toEqual([]);
  });
});
