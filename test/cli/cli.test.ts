import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CliResult, cli as runCli } from '../support/cli.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';

let p: TestPipeline;
let env: Record<string, string>;

/** Runs the CLI in-process with the test's environment, capturing what it prints. */
const cli = (...args: string[]): Promise<CliResult> => runCli(env, ...args);

beforeAll(async () => {
  p = await testPipeline('cli');
  env = { ...p.env, BILLING_SOURCE: p.source, BILLING_HOME: join(p.home, 'state') };
  await p.put(
    'year=2025/month=04/day=23/a.csv',
    csv(
      row({ user_id: '1', credit_usage: '0.1' }),
      row({ user_id: '2', credit_usage: '0.2', timestamp: '2025-04-23T23:59:59.5Z' }),
      row({ user_id: 'bad' }),
    ),
  );
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('cli', () => {
  it('materializes, says how many rows were rejected, and still exits 0', async () => {
    const result = await cli('materialize');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/success, 2 row\(s\) loaded, 1 row\(s\) rejected/);
    expect(result.stderr).toMatch(/billing_events\s+materialized/);
  });

  it('prints query results as JSON with exact decimals, ISO timestamps, dates and numbers', async () => {
    const result = await cli(
      'query',
      'SELECT day, event_count, total_credit_usage, CAST(max_ts AS TIMESTAMP) AS max_ts FROM daily_aggregates, (SELECT max("timestamp") AS max_ts FROM billing_events)',
      '--format',
      'json',
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        day: '2025-04-23',
        event_count: 2,
        total_credit_usage: '0.300000',
        max_ts: '2025-04-23T23:59:59.500000Z',
      },
    ]);
  });

  it('prints CSV and aligned tables', async () => {
    const asCsv = await cli(
      'query',
      "SELECT 'a,b' AS label, 1.50::DECIMAL(18,6) AS amount",
      '--format',
      'csv',
    );
    expect(asCsv.stdout).toBe('label,amount\n"a,b",1.500000\n');
    const asTable = await cli(
      'query',
      'SELECT user_id, total_credit_usage FROM user_aggregates ORDER BY user_id',
      '--format',
      'table',
    );
    expect(asTable.stdout.split('\n').slice(0, 4)).toEqual([
      'user_id  total_credit_usage',
      '-------  ------------------',
      '      1            0.100000',
      '      2            0.200000',
    ]);
  });

  it('shows runs, a run with its event log, assets, lineage and insights', async () => {
    const runs = JSON.parse((await cli('runs', '--format', 'json')).stdout) as {
      run_id: string;
      status: string;
    }[];
    expect(runs[0]?.status).toBe('success');
    const show = await cli('runs', 'show', runs[0]?.run_id ?? '');
    expect(show.stdout).toMatch(/loaded year=2025\/month=04\/day=23\/a\.csv: 2 row\(s\), 1 rejected/);
    const assets = await cli('assets');
    expect(assets.stdout).toMatch(/billing_insights\s+daily_aggregates, user_aggregates/);
    const lineage = await cli(
      'lineage',
      'daily_aggregates',
      '--partition',
      '2025-04-23',
      '--rows',
      '5',
      '--format',
      'json',
    );
    const parsed = JSON.parse(lineage.stdout);
    expect(parsed.upstream).toEqual(['billing_files', 'fx_rates', 'billing_events']);
    expect(parsed.files).toMatchObject([
      { source_key: 'year=2025/month=04/day=23/a.csv', events: 2, total_credit_usage: '0.300000' },
    ]);
    expect(parsed.rows.map((r: { source_line: number }) => r.source_line)).toEqual([2, 3]);
    const insights = await cli('insights');
    expect(insights.stdout).toMatch(/Spend\s+0\.30 USD \(exact: 0\.300000 USD\)/);
  });

  it('backfills from a YAML config in the Dagster shape', async () => {
    const config = join(p.home, 'backfill.yaml');
    await writeFile(
      config,
      'ops:\n  billing_files:\n    config:\n      from_date: "2025-04-23"\n      to_date: "2025-04-23"\n',
    );
    const result = await cli('backfill', '--config', config);
    expect(result.code).toBe(0);
    const runs = JSON.parse((await cli('runs', '--format', 'json', '--limit', '1')).stdout);
    expect(runs[0]).toMatchObject({
      trigger: 'backfill',
      partition_from: '2025-04-23',
      partition_to: '2025-04-23',
    });
  });

  it('rejects bad flags with exit 2 and an actionable message', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['materialize', '--from', '2025-02-30', '--to', '2025-03-01'],
        /--from "2025-02-30" is not a valid date/,
      ],
      [['materialize', '--from', '2025-03-02', '--to', '2025-03-01'], /after --to/],
      [['materialize', '--from', '2025-03-02'], /--from and --to go together/],
      [['materialize', '--select', 'nope'], /unknown asset "nope"/],
      [['query', 'SELECT 1', '--format', 'xml'], /--format must be one of json, csv, table/],
      [['backfill'], /needs --from and --to, or --config/],
      [['backfill', '--config', '/nonexistent.yaml'], /cannot read backfill config/],
      [['generate', '--to', '/tmp/x', '--from', '2025-01-01'], /last day/],
      [['runs', '--limit', '0'], /--limit must be a positive integer/],
      [['frobnicate'], /unknown command/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('exits 1 with the error when the run fails', async () => {
    env = { ...env, BILLING_SOURCE: 's3://definitely-missing-bucket/' };
    const result = await cli('materialize');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/does not exist/);
  });
});
