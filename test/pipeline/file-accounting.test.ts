import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { cli } from '../support/cli.js';
import { csv, HEADER, row, TEST_BACKEND, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { inProcessLauncher } from '../web/support.js';

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

describe('keys that cannot be billing files are recorded with a reason', () => {
  // The CLI with a PostgreSQL warehouse queues runs for scale-out workers; the SQL is the same as below.
  it.skipIf(TEST_BACKEND !== 'duckdb')(
    'on S3: impossible Hive dates and undated CSVs land in billing_files as rejected, and the CLI says so',
    async () => {
      const p = await testPipeline('skipped-s3');
      const env = { ...p.env, BILLING_SOURCE: p.source, BILLING_HOME: path.join(p.home, 'state') };
      await p.put(`${DAY}/good.csv`, csv(row()));
      expect((await cli(env, 'materialize')).code).toBe(0);
      const before = await p.rows('SELECT count(*) AS n, sum(credit_usage) AS total FROM billing_events');

      await p.put('year=2025/month=02/day=30/a.csv', csv(row({ user_id: '2' })));
      await p.put('year=2025/month=13/day=01/b.csv.gz', Buffer.from('not even read'));
      await p.put('exports/billing-2025-04-31.csv', csv(row({ user_id: '3' })));
      await p.put('year=2025/month=02/day=30/_SUCCESS', '');
      const result = await cli(env, 'materialize');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        /3 file\(s\) skipped: exports\/billing-2025-04-31\.csv: no day in the key: expected year=YYYY\/month=MM\/day=DD\/ folders above it; … \(see billing_files\)/,
      );
      const files = await p.rows(
        `SELECT source_key, CAST(partition AS VARCHAR) AS partition, status, needs_load, error FROM billing_files
        WHERE partition IS NULL ORDER BY source_key`,
      );
      expect(files).toEqual([
        {
          source_key: 'exports/billing-2025-04-31.csv',
          partition: null,
          status: 'rejected',
          needs_load: false,
          error: 'no day in the key: expected year=YYYY/month=MM/day=DD/ folders above it',
        },
        {
          source_key: 'year=2025/month=02/day=30/a.csv',
          partition: null,
          status: 'rejected',
          needs_load: false,
          error: 'no such date: 2025-02-30 (from year=2025/month=02/day=30/)',
        },
        {
          source_key: 'year=2025/month=13/day=01/b.csv.gz',
          partition: null,
          status: 'rejected',
          needs_load: false,
          error: 'no such date: 2025-13-01 (from year=2025/month=13/day=01/)',
        },
      ]);
      // Nothing stored was touched, and the keys stay recorded (once each) on later runs.
      expect(await p.rows('SELECT count(*) AS n, sum(credit_usage) AS total FROM billing_events')).toEqual(
        before,
      );
      await p.materialize({ range: { from: '2025-02-01', to: '2025-04-30' } });
      expect(await p.rows("SELECT count(*) AS n FROM billing_files WHERE status = 'rejected'")).toEqual([
        { n: 3 },
      ]);
      expect(await p.rows('SELECT count(*) AS n, sum(credit_usage) AS total FROM billing_events')).toEqual(
        before,
      );

      // What `query` shows, and what the UI's file listing reads (/api/data/files reads billing_files).
      const query = await cli(
        env,
        'query',
        "SELECT source_key, error FROM billing_files WHERE status = 'rejected' ORDER BY source_key",
        '--format',
        'csv',
      );
      expect(query.stdout).toContain('year=2025/month=02/day=30/a.csv,no such date: 2025-02-30');
    },
  );

  it('in a local folder: a dated name with an impossible date is recorded, a valid one loads', async () => {
    const folder = await tmpDir('skipped-local-src');
    const p = await testPipeline('skipped-local', { source: folder });
    await p.put('billing-2025-04-31.csv', csv(row()));
    await p.put('billing-2025-04-30.csv', csv(row({ timestamp: '2025-04-30T10:00:00Z' })));
    await p.materialize();
    expect(
      await p.rows(
        'SELECT source_key, CAST(partition AS VARCHAR) AS p, status, error FROM billing_files ORDER BY 1',
      ),
    ).toEqual([
      { source_key: 'billing-2025-04-30.csv', p: '2025-04-30', status: 'loaded', error: null },
      {
        source_key: 'billing-2025-04-31.csv',
        p: null,
        status: 'rejected',
        error: 'no such date: 2025-04-31 (from the file name)',
      },
    ]);
  });
});

describe('the same content under several keys', () => {
  const body = csv(row({ user_id: '1', credit_usage: '10' }), row({ user_id: '2', credit_usage: '5.5' }));

  it('is counted once: copies are recorded as duplicates of the first loaded, and duplicate_file fails', async () => {
    const p = await testPipeline('duplicates');
    await p.put(`${DAY}/export.csv`, body);
    await p.put(`${DAY}/empty-a.csv`, `${HEADER}\n`);
    expect((await p.materialize()).status).toBe('success');
    const before = await p.rows('SELECT count(*) AS n, sum(credit_usage) AS total FROM billing_events');
    expect(before).toEqual([{ n: 2, total: '15.500000' }]);

    // The same bytes delivered again under two more keys, one on another day; an empty file twice is no copy.
    await p.put(`${DAY}/export (1).csv`, body);
    await p.put('year=2025/month=04/day=24/export.csv', body);
    await p.put(`${DAY}/empty-b.csv`, `${HEADER}\n`);
    const summary = await p.materialize();
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/duplicate_file/);
    const files = await p.rows(
      'SELECT source_key, status, duplicate_of, content_hash IS NOT NULL AS hashed FROM billing_files ORDER BY source_key',
    );
    expect(files).toEqual([
      { source_key: `${DAY}/empty-a.csv`, status: 'loaded', duplicate_of: null, hashed: true },
      { source_key: `${DAY}/empty-b.csv`, status: 'loaded', duplicate_of: null, hashed: true },
      {
        source_key: `${DAY}/export (1).csv`,
        status: 'duplicate',
        duplicate_of: `${DAY}/export.csv`,
        hashed: true,
      },
      { source_key: `${DAY}/export.csv`, status: 'loaded', duplicate_of: null, hashed: true },
      {
        source_key: 'year=2025/month=04/day=24/export.csv',
        status: 'duplicate',
        duplicate_of: `${DAY}/export.csv`,
        hashed: true,
      },
    ]);
    expect(await p.rows('SELECT count(*) AS n, sum(credit_usage) AS total FROM billing_events')).toEqual(
      before,
    );
    const [reason] = await p.rows(
      `SELECT reason FROM rejected_files WHERE source_key = '${DAY}/export (1).csv'`,
    );
    expect(String(reason?.reason)).toMatch(
      /^same content as year=2025\/month=04\/day=23\/export\.csv \(\d+ bytes, SHA-256 [0-9a-f]{12}…\)/,
    );
    const checks = await p.rows(
      `SELECT partition, passed, observed FROM check_results WHERE check_name = 'duplicate_file'
        AND run_id = '${summary.runId}' ORDER BY partition`,
    );
    expect(checks).toEqual([
      { partition: '2025-04-23', passed: false, observed: '1' },
      { partition: '2025-04-24', passed: false, observed: '1' },
    ]);

    // A forced reprocess changes nothing: the first loaded key stays the original.
    await p.materialize({ range: { from: '2025-04-23', to: '2025-04-24' } });
    expect(await p.rows('SELECT count(*) AS n, sum(credit_usage) AS total FROM billing_events')).toEqual(
      before,
    );
    expect(await p.rows("SELECT count(*) AS n FROM billing_files WHERE status = 'duplicate'")).toEqual([
      { n: 2 },
    ]);
  });

  it('counts copies that arrive together once: the first key wins', async () => {
    const p = await testPipeline('duplicates-together');
    await p.put(`${DAY}/b.csv`, body);
    await p.put(`${DAY}/a.csv`, body);
    expect((await p.materialize()).status).toBe('failed');
    expect(await p.rows('SELECT source_key, status, duplicate_of FROM billing_files ORDER BY 1')).toEqual([
      { source_key: `${DAY}/a.csv`, status: 'loaded', duplicate_of: null },
      { source_key: `${DAY}/b.csv`, status: 'duplicate', duplicate_of: `${DAY}/a.csv` },
    ]);
    expect(await p.rows('SELECT count(*) AS n FROM billing_events')).toEqual([{ n: 2 }]);
  });

  it('loads copies when on_duplicate is load, still flagged by the check', async () => {
    const p = await testPipeline('duplicates-load');
    p.env.BILLING_CHECKS_DUPLICATE_FILE_ON_DUPLICATE = 'load';
    p.env.BILLING_CHECKS_DUPLICATE_FILE_SEVERITY = 'warn';
    await p.put(`${DAY}/a.csv`, body);
    await p.put(`${DAY}/b.csv`, body);
    expect((await p.materialize()).status).toBe('success');
    expect(await p.rows('SELECT count(*) AS n FROM billing_events')).toEqual([{ n: 4 }]);
    expect(await p.rows('SELECT source_key, status, duplicate_of FROM billing_files ORDER BY 1')).toEqual([
      { source_key: `${DAY}/a.csv`, status: 'loaded', duplicate_of: null },
      { source_key: `${DAY}/b.csv`, status: 'loaded', duplicate_of: `${DAY}/a.csv` },
    ]);
    const [check] = await p.rows(
      "SELECT passed, message FROM check_results WHERE check_name = 'duplicate_file' ORDER BY result_id DESC LIMIT 1",
    );
    expect(check?.passed).toBe(false);
    expect(String(check?.message)).toMatch(/1 counted twice \(on_duplicate: load\)/);
  });
});

describe("the UI's file listing", () => {
  it('/api/data/files lists skipped keys and duplicates with their status and reason', async () => {
    const p = await testPipeline('files-api');
    const body = csv(row({ credit_usage: '4' }));
    await p.put(`${DAY}/a.csv`, body);
    await p.materialize();
    await p.put(`${DAY}/copy.csv`, body);
    await p.put('year=2025/month=02/day=30/x.csv', body);
    await p.materialize();
    const runtime = await p.open();
    try {
      const app = createApp({ runtime, launcher: inProcessLauncher(runtime) });
      const all = await app.request('/api/data/files?limit=50');
      expect(all.status).toBe(200);
      const listed = (await all.json()) as { files: Record<string, unknown>[]; statuses: unknown[] };
      const byKey = new Map(listed.files.map((f) => [f.source_key, f]));
      expect(byKey.get('year=2025/month=02/day=30/x.csv')).toMatchObject({
        partition: null,
        status: 'rejected',
        error: 'no such date: 2025-02-30 (from year=2025/month=02/day=30/)',
      });
      expect(byKey.get(`${DAY}/copy.csv`)).toMatchObject({ status: 'duplicate' });
      expect(String(byKey.get(`${DAY}/copy.csv`)?.error)).toMatch(
        /^same content as year=2025\/month=04\/day=23\/a\.csv/,
      );
      const duplicates = await app.request('/api/data/files?status=duplicate');
      expect(duplicates.status).toBe(200);
      expect(((await duplicates.json()) as { total: number }).total).toBe(1);
    } finally {
      await runtime.close();
    }
  });
});

describe.skipIf(TEST_BACKEND !== 'duckdb')('an older warehouse', () => {
  it('gains the new billing_files columns and keeps its rows', async () => {
    const p = await testPipeline('old-billing-files');
    const state = path.join(p.home, 'state');
    await mkdir(state, { recursive: true });
    // billing_files as it was: partition NOT NULL, no content hash, and the unique index older DuckDB warehouses had.
    const db = await DuckDBInstance.create(path.join(state, 'billing.duckdb'));
    const connection = await db.connect();
    await connection.run(`CREATE TABLE billing_files (source_key VARCHAR NOT NULL, partition DATE NOT NULL,
      size BIGINT NOT NULL, version VARCHAR NOT NULL, status VARCHAR NOT NULL, needs_load BOOLEAN NOT NULL,
      first_seen_at TIMESTAMP NOT NULL, last_seen_at TIMESTAMP NOT NULL, loaded_version VARCHAR, loaded_at TIMESTAMP,
      loaded_run_id VARCHAR, rejected_version VARCHAR, row_count BIGINT, rejected_row_count BIGINT, error VARCHAR)`);
    await connection.run('CREATE UNIQUE INDEX billing_files_source_key ON billing_files (source_key)');
    await connection.run(`INSERT INTO billing_files VALUES ('old/year=2025/month=01/day=01/x.csv', DATE '2025-01-01',
      1, 'v1', 'missing', false, now(), now(), 'v1', now(), 'run-0', NULL, 0, 0, NULL)`);
    connection.closeSync();
    db.closeSync();

    await p.put('year=2025/month=02/day=30/a.csv', csv(row()));
    await p.put(`${DAY}/good.csv`, csv(row()));
    await p.materialize();
    expect(
      await p.rows(
        'SELECT source_key, status, content_hash IS NOT NULL AS hashed FROM billing_files ORDER BY 1',
      ),
    ).toEqual([
      { source_key: 'old/year=2025/month=01/day=01/x.csv', status: 'missing', hashed: false },
      { source_key: 'year=2025/month=02/day=30/a.csv', status: 'rejected', hashed: false },
      { source_key: `${DAY}/good.csv`, status: 'loaded', hashed: true },
    ]);
  });
});
