import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { type CliResult, cli } from '../support/cli.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

/*
 * `query` only reads, so it must work where nothing can be written: a read-only mount (a backup
 * restored for inspection, a container's read-only volume). Root ignores file permissions, so as
 * root (CI) the warehouse sits on a tmpfs remounted read-only; otherwise the file and its folder
 * are chmod'ed read-only.
 */

const isRoot = process.getuid?.() === 0;
let p: TestPipeline;
let env: Record<string, string>;

beforeAll(async () => {
  p = await testPipeline('cli-read-only');
  env = { ...p.env, BILLING_SOURCE: p.source, BILLING_HOME: join(p.home, 'state') };
  await p.put(
    'year=2025/month=04/day=23/a.csv',
    csv(row({ user_id: '1', credit_usage: '0.1' }), row({ user_id: '2', credit_usage: '0.2' })),
  );
  const result = await cli(env, 'materialize');
  expect(result.code, result.stderr).toBe(0);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A copy of the warehouse in a folder nothing can be written to; returns its BILLING_HOME. */
async function readOnlyHome(): Promise<string> {
  const home = join(await tmpDir('read-only-home'), 'home');
  await mkdir(home);
  if (isRoot) {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', home]);
    onTestFinished(() => {
      execFileSync('umount', [home]);
    });
  }
  await copyFile(join(env.BILLING_HOME as string, 'billing.duckdb'), join(home, 'billing.duckdb'));
  if (isRoot) {
    execFileSync('mount', ['-o', 'remount,ro', home]);
  } else {
    await chmod(join(home, 'billing.duckdb'), 0o444);
    await chmod(home, 0o555);
    onTestFinished(() => chmod(home, 0o755));
  }
  return home;
}

const query = (home: string, sql: string): Promise<CliResult> =>
  cli({ ...env, BILLING_HOME: home }, 'query', sql, '--format', 'json');

describe('query on a read-only warehouse', () => {
  it('reads the tables without writing anything', async () => {
    const home = await readOnlyHome();
    const result = await query(
      home,
      'SELECT day, event_count, total_credit_usage, utc_now() IS NOT NULL AS now FROM daily_aggregates',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { day: '2025-04-23', event_count: 2, total_credit_usage: '0.300000', now: true },
    ]);
  });

  it('a statement that writes still fails there, saying why, without a stack trace', async () => {
    const home = await readOnlyHome();
    const result = await query(home, 'DELETE FROM billing_events');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: the warehouse \/.*billing\.duckdb cannot be written \((read-only file system|permission denied)\)/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a writing statement on a writable warehouse still runs (read-write only when needed)', async () => {
    const result = await cli(env, 'query', 'CREATE TABLE IF NOT EXISTS scratch_note AS SELECT 1 AS x');
    expect(result.code, result.stderr).toBe(0);
    const check = await cli(env, 'query', 'SELECT x FROM scratch_note', '--format', 'json');
    expect(JSON.parse(check.stdout)).toEqual([{ x: 1 }]);
  });
});
