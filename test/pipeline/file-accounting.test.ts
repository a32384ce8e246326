import { stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { csv, HEADER, row, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

/*
 * "Why isn't my file counted?" always has an answer in the tables: every file is loaded, or recorded
 * with a reason, and current-state tables say what is true now.
 */

const DAY = 'year=2025/month=04/day=23';

describe('rejected files are current state', () => {
  it('a forced reprocess or a backfill leaves one rejected_files row per rejected file', async () => {
    const p = await testPipeline('rejected-once');
    await p.put(`${DAY}/good.csv`, csv(row()));
    await p.put(`${DAY}/missing.csv`, 'timestamp,user_id\n2025-04-23T10:00:00Z,1\n');
    await p.put(`${DAY}/twice.csv`, `${HEADER},credit_usage\n${row()},2.5\n`);
    expect((await p.materialize()).status).toBe('success');
    const first = await p.rows('SELECT source_key, source_version, reason FROM rejected_files ORDER BY 1');
    expect(first.map((r) => r.source_key)).toEqual([`${DAY}/missing.csv`, `${DAY}/twice.csv`]);

    await p.materialize({ range: { from: '2025-04-23', to: '2025-04-23' } });
    await p.materialize({ range: { from: '2025-04-23', to: '2025-04-23' }, trigger: 'backfill' });
    const after = await p.rows('SELECT source_key, source_version, reason FROM rejected_files ORDER BY 1');
    expect(after).toEqual(first);
    // Nothing already stored was lost on the way.
    expect(await p.rows('SELECT count(*) AS n FROM billing_events')).toEqual([{ n: 1 }]);

    // A fixed version loads and clears its rejection.
    await p.put(`${DAY}/missing.csv`, csv(row({ user_id: '2' })));
    await p.materialize();
    expect(await p.rows('SELECT source_key FROM rejected_files ORDER BY 1')).toEqual([
      { source_key: `${DAY}/twice.csv` },
    ]);
  });

  it('rejects a header that names a schema column twice, naming the column', async () => {
    const p = await testPipeline('header-twice');
    await p.put(`${DAY}/twice.csv`, `${HEADER},Credit_Usage\n${row()},999\n`);
    await p.materialize();
    const [file] = await p.rows('SELECT status, error FROM billing_files');
    expect(file?.status).toBe('rejected');
    expect(String(file?.error)).toMatch(
      /column credit_usage appears 2 times in the header \(columns 4, 12\)/,
    );
    expect(await p.rows('SELECT count(*) AS n FROM billing_events')).toEqual([{ n: 0 }]);
  });
});

describe('local file versions', () => {
  it('reloads a file rewritten with the same size and its mtime put back (cp -p)', async () => {
    const folder = await tmpDir('cp-p-src');
    const p = await testPipeline('cp-p', { source: folder });
    const key = `${DAY}/a.csv`;
    const file = path.join(folder, key);
    await p.put(key, csv(row({ credit_usage: '1.25' })));
    // Whole seconds, so utimes restores the mtime exactly.
    const when = new Date((Math.floor(Date.now() / 1000) - 60) * 1000);
    await utimes(file, when, when);
    await p.materialize();
    expect(await p.rows('SELECT credit_usage FROM billing_events')).toEqual([{ credit_usage: '1.250000' }]);

    const before = await stat(file);
    await writeFile(file, csv(row({ credit_usage: '9.75' })));
    await utimes(file, when, when);
    const after = await stat(file);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);

    await p.materialize();
    expect(await p.rows('SELECT credit_usage FROM billing_events')).toEqual([{ credit_usage: '9.750000' }]);
    expect(await p.rows('SELECT total_credit_usage FROM daily_aggregates')).toEqual([
      { total_credit_usage: '9.750000' },
    ]);
  });
});
