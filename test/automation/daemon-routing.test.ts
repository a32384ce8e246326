import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { type CliResult, cli, startServe } from './daemon-support.js';

const LOCK_ERROR = /lock|in use by another process/i;

function expectClean(result: CliResult): void {
  expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
  expect(result.stderr).not.toMatch(LOCK_ERROR);
}

const runIdOf = (result: CliResult): string => {
  const match = /^run (\S+) success/m.exec(result.stdout);
  if (!match?.[1]) throw new Error(`no successful run in: ${result.stdout}${result.stderr}`);
  return match[1];
};

describe('CLI with and without a daemon', () => {
  it('goes through a running daemon, never meets the lock, and works in-process once it stopped', async () => {
    const p = await testPipeline('routing');
    await p.put(
      'year=2025/month=04/day=23/a.csv',
      csv(row({ user_id: '1' }), row({ user_id: '2', timestamp: '2025-04-23T12:00:00Z' })),
    );
    const home = path.join(p.home, 'state');
    const env = { ...p.env, BILLING_SOURCE: p.source, BILLING_HOME: home };
    const daemon = await startServe(env);

    // Two clients at once while the daemon holds the DuckDB file open for writing.
    const [materialized, counted] = await Promise.all([
      cli(env, 'materialize'),
      cli(env, 'query', 'SELECT count(*) AS n FROM runs', '--format', 'json'),
    ]);
    expectClean(materialized);
    expectClean(counted);
    const runId = runIdOf(materialized);
    expect(materialized.stdout).toMatch(/2 row\(s\) loaded/);
    // The run happened in the daemon: its log announced it.
    expect(daemon.output()).toContain(`run ${runId} started`);
    // ... and the CLI said so.
    expect(materialized.stderr).toContain(
      `handing the run to the daemon at ${daemon.info.url}, pid ${daemon.info.pid}`,
    );
    // The run recorded the daemon's configuration, which `runs show` prints (here through the API).
    const shown = await cli(env, 'runs', 'show', runId);
    expectClean(shown);
    expect(shown.stdout).toContain('config (secrets redacted):');
    expect(shown.stdout).toContain(`  source: ${p.source}`);
    expect(shown.stdout).toContain(`  fx_source: ${p.env.BILLING_FX_SOURCE}`);
    expect(shown.stdout).toContain('  checks: built-in defaults');
    // The run page reads the same record from the run detail API.
    const detail = await daemon.api<{ config: Record<string, unknown> | null }>('GET', `/api/runs/${runId}`);
    expect(detail.config).toMatchObject({ source: p.source, fx_source: p.env.BILLING_FX_SOURCE });
    // Where the daemon keeps its state is the process's, not the run's: not recorded.
    expect(detail.config).not.toHaveProperty('home');
    expect(detail.config).not.toHaveProperty('warehouse');

    // A setting of this command that the daemon does not share would be ignored: refused, named.
    const differing = await cli(
      { ...env, BILLING_FX_SOURCE: path.join(p.home, 'other-rates.csv'), BILLING_INGEST_CONCURRENCY: '2' },
      'materialize',
    );
    expect(differing.code).toBe(2);
    expect(differing.stderr).toMatch(
      /fx_source: \S+other-rates\.csv here \(BILLING_FX_SOURCE\), \S+ in the daemon/,
    );
    // The same value as the daemon's (the default, here set explicitly) is no difference.
    expect(differing.stderr).not.toMatch(/ingest_concurrency/);
    expect(differing.stderr).toContain(`stop the daemon (kill ${daemon.info.pid})`);
    expect(differing.stderr).not.toMatch(/^\s+at /m);
    const after = await daemon.sql<{ n: number }>('SELECT count(*) AS n FROM runs');
    expect(Number(after[0]?.n)).toBe(1);

    const [runs, query, backfill] = await Promise.all([
      cli(env, 'runs', '--format', 'json'),
      cli(env, 'query', 'SELECT day, event_count FROM daily_aggregates', '--format', 'json'),
      cli(env, 'backfill', '--from', '2025-04-23', '--to', '2025-04-23'),
    ]);
    for (const result of [runs, query, backfill]) expectClean(result);
    expect(JSON.parse(runs.stdout)).toContainEqual(
      expect.objectContaining({ run_id: runId, trigger: 'cli', status: 'success' }),
    );
    expect(JSON.parse(query.stdout)).toEqual([{ day: '2025-04-23', event_count: 2 }]);
    // In the daemon a backfill is a tracked object, not a bare run.
    expect(backfill.stdout).toMatch(/^backfill bf-\S+ success: 1 partition\(s\), 1 succeeded/m);

    const stopped = await daemon.stop('SIGTERM');
    expect(stopped).toEqual({ code: 0, signal: null });
    expect(daemon.output()).toMatch(/stopped; the warehouse is closed/);
    expect(existsSync(path.join(home, 'daemon.json'))).toBe(false);
    expect(existsSync(path.join(home, 'billing.duckdb.wal'))).toBe(false);

    // No daemon: the same commands open the file themselves.
    const offline = await cli(env, 'materialize');
    expectClean(offline);
    const offlineRun = runIdOf(offline);
    expect(daemon.output()).not.toContain(offlineRun);
    const listed = await cli(env, 'runs', '--format', 'json', '--limit', '50');
    expectClean(listed);
    const ids = (JSON.parse(listed.stdout) as { run_id: string }[]).map((r) => r.run_id);
    expect(ids).toEqual(expect.arrayContaining([runId, offlineRun]));
  });
});
