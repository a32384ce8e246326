import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { cli, cliEnv } from './support.js';

let p: TestPipeline;
let env: Record<string, string>;

beforeAll(async () => {
  p = await testPipeline('checks-cli');
  env = cliEnv(p);
  await p.put('year=2025/month=04/day=22/a.csv', csv(row({ timestamp: '2025-04-22T10:00:00Z' })));
  await p.put(
    'year=2025/month=04/day=23/a.csv',
    csv(row({ region: 'mars-1' }), row({ user_id: '2', currency: '' })),
  );
});

afterEach(() => {
  vi.restoreAllMocks();
});

interface JsonResult {
  asset: string;
  partition: string | null;
  check_name: string;
  severity: string;
  passed: boolean;
  observed: string | null;
  threshold: string | null;
  message: string | null;
  run_id: string;
  evaluated_at: string;
}

const json = (stdout: string) => JSON.parse(stdout) as JsonResult[];

describe('billing-pipeline checks', () => {
  it('says there is nothing yet before the first run', async () => {
    const result = await cli(env, 'checks');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('No check results yet: run `billing-pipeline materialize` first.\n');
  });

  it('lists the latest result per check and partition as JSON, filtered by asset and partition', async () => {
    const run = await cli(env, 'materialize');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/check not_null \(error\) failed for 2025-04-23/);

    const all = json((await cli(env, 'checks', '--format', 'json')).stdout);
    expect(new Set(all.map((r) => r.asset))).toEqual(
      new Set([
        'billing_files',
        'billing_events',
        'daily_aggregates',
        'user_aggregates',
        'service_aggregates',
        'region_aggregates',
        'currency_aggregates',
        'user_daily_aggregates',
        'region_daily_aggregates',
      ]),
    );
    const day = json(
      (await cli(env, 'checks', 'billing_events', '--partition', '2025-04-23', '--format', 'json')).stdout,
    );
    expect(day.every((r) => r.asset === 'billing_events' && r.partition === '2025-04-23')).toBe(true);
    expect(day.map((r) => r.check_name)).toEqual([
      'accepted_values_currency',
      'accepted_values_operation_type',
      'accepted_values_region',
      'accepted_values_resource_type',
      'accepted_values_service_tier',
      'credit_usage_range',
      'duplicate_file',
      'file_row_reconciliation',
      'fx_rate_available',
      'not_null',
      'rejected_row_rate',
      'timestamp_window',
    ]);
    const notNull = day.find((r) => r.check_name === 'not_null');
    expect(notNull).toMatchObject({
      severity: 'error',
      passed: false,
      observed: '1',
      threshold: '0',
      message: 'NULL values: currency ×1',
    });
    expect(notNull?.run_id).toMatch(/^\d{8}-\d{6}-/);
    expect(notNull?.evaluated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    const schema = json((await cli(env, 'checks', 'billing_events', '--format', 'json')).stdout).filter(
      (r) => r.partition === null,
    );
    expect(schema.map((r) => [r.check_name, r.passed])).toEqual([['schema_conformance', true]]);
  });

  it('summarizes by default: counts, then failures (errors first), passing results as a count', async () => {
    const summary = await cli(env, 'checks', 'billing_events');
    expect(summary.code).toBe(0);
    const lines = summary.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('25 check result(s): 3 failing (2 error, 1 warn), 22 passing');
    expect(summary.stdout).toMatch(/^error\s+2\s+\d+$/m);
    expect(summary.stdout).toMatch(/^warn\s+1\s+\d+$/m);
    const failing = lines.slice(lines.indexOf('Failing (errors first)') + 3, -2);
    expect(failing.map((l) => l.split(/\s+/).slice(2, 5).join(' '))).toEqual([
      'fx_rate_available error FAIL',
      'not_null error FAIL',
      'accepted_values_region warn FAIL',
    ]);
    expect(summary.stdout).not.toMatch(/\bpass\b/);
    expect(summary.stdout.replaceAll('NULL values', '')).not.toContain('NULL');
    expect(lines.at(-1)).toBe(
      '22 passing result(s) not listed: --all lists every result, --format json prints them all.',
    );
    expect(lines.length).toBeLessThan(20);
  });

  it('prints every result with --all, failures first, with a pass/FAIL column and no NULL', async () => {
    const table = await cli(env, 'checks', 'billing_events', '--all');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^asset\s+partition\s+check_name\s+severity\s+status\s+observed\s+threshold\s+message$/,
    );
    expect(table.stdout).toMatch(
      /billing_events\s+2025-04-23\s+not_null\s+error\s+FAIL\s+1\s+0\s+NULL values: currency ×1/,
    );
    expect(table.stdout).toMatch(/billing_events\s+2025-04-22\s+not_null\s+error\s+pass\s+0\s+0/);
    expect(table.stdout).toMatch(/billing_events\s+\(whole asset\)\s+schema_conformance/);
    expect(table.stdout.replaceAll('NULL values', '')).not.toContain('NULL');
    expect(lines[2]).toMatch(/\sFAIL\s/);
    expect(lines.at(-1)).toBe('25 result(s), 3 failing (2 error, 1 warn)');

    const failed = await cli(env, 'checks', 'billing_events', '--failed', '--format', 'json');
    expect(
      json(failed.stdout)
        .map((r) => `${r.partition} ${r.check_name} ${r.severity}`)
        .sort(),
    ).toEqual([
      '2025-04-23 accepted_values_region warn',
      '2025-04-23 fx_rate_available error',
      '2025-04-23 not_null error',
    ]);
    const none = await cli(env, 'checks', 'daily_aggregates', '--failed');
    expect(none.stdout).toBe('No failing checks.\n');
  });

  it('shows every evaluation newest first with --history', async () => {
    // A second run evaluates the failing partition again.
    await cli(env, 'materialize');
    const history = json(
      (
        await cli(
          env,
          'checks',
          'billing_events',
          '--partition',
          '2025-04-23',
          '--history',
          '--limit',
          '50',
          '--format',
          'json',
        )
      ).stdout,
    );
    const notNull = history.filter((r) => r.check_name === 'not_null');
    expect(notNull).toHaveLength(2);
    const [latestRun] = JSON.parse((await cli(env, 'runs', '--format', 'json', '--limit', '1')).stdout) as {
      run_id: string;
    }[];
    expect(notNull[0]?.run_id).toBe(latestRun?.run_id);
    expect(notNull[1]?.run_id).not.toBe(latestRun?.run_id);
    const limited = json((await cli(env, 'checks', '--history', '--limit', '2', '--format', 'json')).stdout);
    expect(limited).toHaveLength(2);
  });

  it('rejects bad arguments with exit 2 and a clear message', async () => {
    const cases: [string[], RegExp][] = [
      [['checks', '--format', 'xml'], /--format must be one of table, json; got "xml"/],
      [['checks', 'nope'], /unknown asset "nope"/],
      [['checks', '--partition', '2025-02-30'], /--partition "2025-02-30" is not a valid date/],
      [['checks', '--history', '--limit', '0'], /--limit must be a positive integer/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(env, ...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });
});
