import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Help } from 'commander';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { readBackfillConfig } from '../../src/cli/backfill-config.js';
import { COMMANDS } from '../../src/cli/command-table.js';
import { buildFullProgram } from '../../src/cli/main.js';
import { demoDays } from '../../src/dev/demo-days.js';
import { type CliResult, cli as runCli } from '../support/cli.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

/*
 * The first hour of a new user, command by command (issue 13): output to a closed pipe, --version,
 * what --help loads, absent values, long asset names, sensors and schedules without a daemon, an
 * empty backfill range and a file rejected whole.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'src/cli/bin.ts');

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in a child process (through tsx, so no build is needed). `closeStdout` closes the
 * reading end of its stdout at once, as `| head` does once it has read enough.
 */
function spawnCli(
  args: string[],
  options: { env?: Record<string, string>; closeStdout?: boolean; nodeArgs?: string[] } = {},
): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (options.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let p: TestPipeline;
let env: Record<string, string>;
const cli = (...args: string[]): Promise<CliResult> => runCli(env, ...args);

beforeAll(async () => {
  p = await testPipeline('first-hour');
  env = { ...p.env, BILLING_SOURCE: p.source, BILLING_HOME: join(p.home, 'state') };
  await p.put('year=2025/month=04/day=23/a.csv', csv(row({ user_id: '1' }), row({ user_id: '2' })));
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a new user', () => {
  it('sees "No runs yet" before the first run, then runs without the word NULL', async () => {
    const none = await cli('runs');
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('No runs yet; start one with: billing-pipeline materialize\n');

    const never = await cli('lineage', 'daily_aggregates');
    expect(never.stdout).toMatch(
      /daily_aggregates has never been materialized; run: billing-pipeline materialize/,
    );

    const first = await cli('materialize');
    expect(first.code, first.stderr).toBe(0);
    const runs = await cli('runs');
    expect(runs.stdout).toMatch(/^run_id\s+status/);
    expect(runs.stdout).not.toMatch(/NULL/);
    // A run without a range has no partition_from/to: the absent mark, the same in every table.
    const line = runs.stdout.split('\n')[2] ?? '';
    expect(line).toMatch(/success\s+cli\s+—\s+—\s+\d{4}-/);
    const assets = await cli('assets');
    expect(assets.stdout).not.toMatch(/NULL/);
    const query = await cli('query', 'SELECT NULL AS nothing, 1 AS one', '--format', 'table');
    expect(query.stdout.split('\n')[2]).toMatch(/^\s*—\s+1$/);
    const nothing = await cli('query', 'SELECT 1 AS one WHERE false', '--format', 'table');
    expect(nothing.stdout).toBe('one\n---\n(no rows)\n');
    const since = await cli('lineage', 'daily_aggregates');
    expect(since.stdout).not.toMatch(/never been materialized/);
    expect(since.stdout).toMatch(/last run \S+: success at \d{4}-.*--partition YYYY-MM-DD/);
  });

  it('reads aligned progress lines, even for user_daily_aggregates', async () => {
    const run = await cli('materialize', '--from', '2025-04-23', '--to', '2025-04-23');
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.split('\n').filter((l) => /^ {2}\w+ +(materialized|up to date|success)/.test(l));
    expect(lines.length).toBeGreaterThan(8);
    const statusAt = new Set(lines.map((l) => l.search(/ (materialized|up to date)/)));
    expect([...statusAt]).toHaveLength(1);
    expect(lines.find((l) => l.includes('user_daily_aggregates'))).toMatch(/user_daily_aggregates {2,}/);
  });

  it('is told that a backfill range without source files has nothing to backfill', async () => {
    const before = JSON.parse((await cli('runs', '--format', 'json')).stdout).length;
    const empty = await cli('backfill', '--from', '2025-05-01', '--to', '2025-05-31');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(
      `error: no source files for 2025-05-01..2025-05-31 under ${p.source}; nothing to backfill (it holds files for 2025-04-23..2025-04-23); add --allow-empty to run it anyway`,
    );
    expect(JSON.parse((await cli('runs', '--format', 'json')).stdout)).toHaveLength(before);

    const allowed = await cli('backfill', '--from', '2025-05-01', '--to', '2025-05-01', '--allow-empty');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/warning: no source files for 2025-05-01\.\.2025-05-01 .*running anyway/);

    const reprocess = await cli('materialize', '--from', '2025-05-01', '--to', '2025-05-01');
    expect(reprocess.stderr).toMatch(/warning: no source files for 2025-05-01\.\.2025-05-01/);
    const full = await cli('backfill', '--from', '2025-04-23', '--to', '2025-04-23');
    expect(full.code).toBe(0);
    expect(full.stderr).not.toMatch(/no source files/);
  });

  it('gets a shipped backfill example that covers the demo days', async () => {
    const now = new Date('2026-12-03T06:00:00Z');
    const range = await readBackfillConfig(join(ROOT, 'configs/backfill.yaml'), now);
    expect(range).toEqual(demoDays(now));
    expect(range).toEqual({ from: '2026-11-03', to: '2026-12-02' });
  });

  it('is told plainly that sensors and schedules do not tick without a daemon', async () => {
    // As the demo leaves it: its daemon switched both on, with its S3 source.
    expect((await cli('sensors', 'start', 's3_partition_sensor')).code).toBe(0);
    expect((await cli('schedules', 'start', 'daily_billing')).code).toBe(0);

    const schedules = await cli('schedules', 'list');
    expect(schedules.code).toBe(0);
    expect(schedules.stdout).toMatch(
      /daily_billing\s+on \(not ticking: no daemon\)\s+0 0 \* \* \* \(UTC\)\s+—\s+—/,
    );
    expect(schedules.stdout).toMatch(
      /No daemon is running: schedules only tick inside `billing-pipeline serve`/,
    );
    const json = JSON.parse((await cli('schedules', 'list', '--format', 'json')).stdout);
    expect(json).toEqual([
      expect.objectContaining({ name: 'daily_billing', enabled: true, ticking: false, next_tick_at: null }),
    ]);

    // The demo's source is gone with the demo: the saved sensor still lists, and says why it is idle.
    const { BILLING_SOURCE: _gone, ...withoutSource } = env;
    const demoGone = (...args: string[]) => runCli(withoutSource, ...args);
    const sensors = await demoGone('sensors', 'list');
    expect(sensors.code).toBe(0);
    expect(sensors.stdout).toMatch(/s3_partition_sensor\s+on \(not configured here\)/);
    expect(sensors.stdout).toMatch(
      /saved by an earlier daemon, not defined here: no source is set \(BILLING_SOURCE/,
    );
    expect(sensors.stdout).toMatch(/No daemon is running: sensors only tick inside/);
    const start = await demoGone('sensors', 'start', 's3_partition_sensor');
    expect(start.code).toBe(2);
    expect(start.stderr).toMatch(
      /sensor s3_partition_sensor is not configured here: it watches an s3:\/\/ source, and no source is set/,
    );
    expect(start.stderr).not.toMatch(/no sensor named/);
  });
});

describe('a file rejected whole', () => {
  it('stands out in the materialize summary with its key and reason', async () => {
    const folder = await tmpDir('first-hour-local');
    const local = await testPipeline('first-hour-local', { source: folder });
    await mkdir(join(folder, 'year=2025/month=04/day=23'), { recursive: true });
    await writeFile(join(folder, 'year=2025/month=04/day=23/good.csv'), csv(row()));
    await writeFile(join(folder, 'year=2025/month=04/day=23/bad.csv'), 'when,who,amount\n2025-04-23,1,2\n');
    const run = await runCli(
      { ...local.env, BILLING_SOURCE: folder, BILLING_HOME: join(local.home, 'state') },
      'materialize',
    );
    expect(run.stdout).toMatch(/^Rejected files: 1 \(not loaded; see table rejected_files\)$/m);
    expect(run.stdout).toMatch(/^ {2}✗ year=2025\/month=04\/day=23\/bad\.csv: .*missing required column/m);
    expect(run.stdout).not.toMatch(/good\.csv/);
  });
});

describe('the command line itself', () => {
  it('ends quietly when the reader closes the pipe (| head)', async () => {
    for (const args of [['--help'], ['runs'], ['query', 'SELECT * FROM range(100000)', '--format', 'csv']]) {
      const result = await spawnCli(args, { env, closeStdout: true });
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr: '' });
    }
  }, 120_000);

  it('prints its version', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect((await cli('--version')).stdout).toBe(`${version}\n`);
    expect((await cli('-V')).stdout).toBe(`${version}\n`);
  });

  it('loads no engine, driver or server to show --help, and query loads only DuckDB', async () => {
    const dir = await tmpDir('first-hour-hooks');
    const log = join(dir, 'resolved.log');
    const hooks = join(dir, 'hooks.mjs');
    await writeFile(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, specifier + ' ' + result.url + '\\n');
  return result;
}`,
    );
    const register = join(dir, 'register.mjs');
    // DuckDB and the AWS SDK are loaded with require (no ESM resolve): their requires are logged too.
    await writeFile(
      register,
      `import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
register(${JSON.stringify(`file://${hooks}`)});
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const file = resolveFilename.call(this, request, ...rest);
  // Packages only: tsx resolves the project's own modules here as well.
  if (!/^(\\.|\\/|node:|file:)/.test(request)) appendFileSync(${JSON.stringify(log)}, request + ' ' + file + '\\n');
  return file;
};
`,
    );
    const loaded = async (args: string[], withEnv = env) => {
      await writeFile(log, '');
      const result = await spawnCli(args, { env: withEnv, nodeArgs: ['--import', register] });
      expect(result.code, result.stderr).toBe(0);
      return readFileSync(log, 'utf8');
    };
    const heavy = ['@aws-sdk/client-s3', '@duckdb/node-api', 'pg', 'pg-boss', 'hono', '@hono/node-server'];
    const help = await loaded(['--help']);
    expect(help).toMatch(/commander/);
    for (const name of [...heavy, 'zod', 'yaml']) expect(help).not.toMatch(new RegExp(`^${name} `, 'm'));
    expect(help).not.toMatch(/src\/runtime\.ts/);

    const query = await loaded(['query', 'SELECT count(*) FROM billing_events']);
    expect(query).toMatch(/^@duckdb\/node-api /m);
    for (const name of heavy.filter((n) => n !== '@duckdb/node-api'))
      expect(query).not.toMatch(new RegExp(`^${name} `, 'm'));
    expect(query).not.toMatch(/src\/runtime\.ts/);

    // A local folder needs no AWS SDK, though the S3 source module is part of the graph.
    const folder = join(dir, 'exports');
    await mkdir(folder);
    const local = await loaded(['materialize'], {
      ...env,
      BILLING_SOURCE: folder,
      BILLING_HOME: join(dir, 'state'),
    });
    expect(local).toMatch(/^@duckdb\/node-api /m);
    for (const name of heavy.filter((n) => n !== '@duckdb/node-api'))
      expect(local).not.toMatch(new RegExp(`^${name} `, 'm'));
  }, 120_000);

  it('lists each command in --help as the command itself registers it', async () => {
    const full = await buildFullProgram();
    const help = new Help();
    expect(COMMANDS.map((c) => ({ name: c.name, term: c.term, description: c.description }))).toEqual(
      full.commands.map((c) => ({
        name: c.name(),
        term: help.subcommandTerm(c),
        description: c.description(),
      })),
    );
  });
});
