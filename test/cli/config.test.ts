import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, SettingError } from '../../src/config.js';
import { openRuntime } from '../../src/runtime.js';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import { cli } from '../support/cli.js';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A project folder with a billing-pipeline.yaml holding `text`. */
async function project(text: string): Promise<string> {
  const dir = await tmpDir('config');
  await writeFile(join(dir, 'billing-pipeline.yaml'), text);
  return dir;
}

describe('billing-pipeline.yaml', () => {
  it('applies flag > variable > file > default, and says where each value came from', async () => {
    const dir = await project(
      ['source: ./from-file', 'fx_source: s3://rates/file.csv', 'ingest_concurrency: 3', ''].join('\n'),
    );
    const env = { BILLING_FX_SOURCE: 's3://rates/env.csv', BILLING_SOURCE: 's3://bucket/env/' };
    const config = loadConfig(env, { cwd: dir, source: 's3://bucket/flag/' });
    expect(config.configFile).toBe(join(dir, 'billing-pipeline.yaml'));
    expect(config.source).toBe('s3://bucket/flag/');
    expect(config.settings.get('source')?.origin).toBe('--source');
    expect(config.fxSource).toBe('s3://rates/env.csv');
    expect(config.settings.get('fx_source')?.origin).toBe('BILLING_FX_SOURCE');
    expect(config.ingestConcurrency).toBe(3);
    expect(config.settings.get('ingest_concurrency')?.origin).toBe('billing-pipeline.yaml:3');
    expect(config.reportingCurrency).toBe('USD');
    expect(config.settings.get('reporting_currency')?.origin).toBe('default');
    // Without the flag and the variable, the file's relative folder is read from the file's folder.
    expect(loadConfig({}, { cwd: dir }).source).toBe(join(dir, 'from-file'));
  });

  it('is found in the working directory before $BILLING_HOME, and --config / BILLING_CONFIG name one', async () => {
    const cwd = await project('reporting_currency: EUR\n');
    const home = await project('reporting_currency: GBP\n');
    const other = await project('reporting_currency: JPY\n');
    expect(loadConfig({ BILLING_HOME: home }, { cwd }).reportingCurrency).toBe('EUR');
    const empty = await tmpDir('config-empty');
    expect(loadConfig({ BILLING_HOME: home }, { cwd: empty }).reportingCurrency).toBe('GBP');
    const named = join(other, 'billing-pipeline.yaml');
    expect(loadConfig({ BILLING_CONFIG: named }, { cwd }).reportingCurrency).toBe('JPY');
    expect(
      loadConfig({ BILLING_CONFIG: named }, { cwd, config: join(home, 'billing-pipeline.yaml') })
        .reportingCurrency,
    ).toBe('GBP');
    expect(() => loadConfig({}, { cwd, config: join(empty, 'nope.yaml') })).toThrow(
      /--config: .*nope.yaml does not exist/,
    );
  });

  it('names the line and key of every invalid or unknown setting, with the nearest known key', async () => {
    const dir = await project(
      [
        '# project settings',
        'source: s3://bucket/prefix/',
        'duckdb:',
        '  memory_limt: 2GB',
        '  threads: many',
        'reporting_currency: EURO',
        'fx_source: 7',
        'fx_sorce: rates.csv',
        '',
      ].join('\n'),
    );
    let error: unknown;
    try {
      loadConfig({}, { cwd: dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SettingError);
    expect((error as Error).message.split('\n')).toEqual([
      'billing-pipeline.yaml:4: duckdb.memory_limt: not a known setting; did you mean duckdb.memory_limit?',
      'billing-pipeline.yaml:5: duckdb.threads: "many" is not a whole number of 1 or more',
      'billing-pipeline.yaml:6: reporting_currency: "EURO" is not a three-letter currency code like USD',
      'billing-pipeline.yaml:7: fx_source: expected a string',
      'billing-pipeline.yaml:8: fx_sorce: not a known setting; did you mean fx_source?',
    ]);
    const broken = await project('source: [unclosed\n');
    expect(() => loadConfig({}, { cwd: broken })).toThrow(/^billing-pipeline.yaml:\d+: not valid YAML/);
  });

  it('validates every variable by name: memory, numbers, cron, time zone, URL', async () => {
    const cwd = await tmpDir('config-env');
    const cases: [Record<string, string>, RegExp][] = [
      [
        { BILLING_DUCKDB_MEMORY_LIMIT: 'lots' },
        /^BILLING_DUCKDB_MEMORY_LIMIT: "lots" is not a memory size like 1GB or 512MB$/,
      ],
      [
        { BILLING_INGEST_CONCURRENCY: '0' },
        /^BILLING_INGEST_CONCURRENCY: "0" is not a whole number of 1 or more$/,
      ],
      [{ BILLING_QUEUE_RETRIES: '-1' }, /^BILLING_QUEUE_RETRIES: "-1" is not a whole number \(0 or more\)$/],
      [
        { BILLING_DAILY_SCHEDULE_CRON: 'every day' },
        /^BILLING_DAILY_SCHEDULE_CRON: "every day" is not a cron expression/,
      ],
      [
        { BILLING_SCHEDULE_TIMEZONE: 'Mars/Olympus' },
        /^BILLING_SCHEDULE_TIMEZONE: "Mars\/Olympus" is not an IANA time zone/,
      ],
      [
        { BILLING_S3_FORCE_PATH_STYLE: 'yes please' },
        /^BILLING_S3_FORCE_PATH_STYLE: "yes please" is not a boolean/,
      ],
      [
        { BILLING_DATABASE_URL: 'mysql://u:secret@h/db' },
        /^BILLING_DATABASE_URL: "mysql:\/\/u:\*\*\*@h\/db" is not a postgres:\/\/ URL/,
      ],
    ];
    for (const [env, message] of cases) expect(() => loadConfig(env, { cwd })).toThrow(message);
    // Several bad settings are all named at once.
    expect(() =>
      loadConfig({ BILLING_DUCKDB_THREADS: 'x', BILLING_REPORTING_CURRENCY: 'dollars' }, { cwd }),
    ).toThrow(
      /^invalid settings:\n {2}BILLING_REPORTING_CURRENCY: "dollars".*\n {2}BILLING_DUCKDB_THREADS: "x"/,
    );
  });

  it('makes a bad setting a usage error (exit 2) without a stack trace, and warns once on unknown variables', async () => {
    const cwd = await tmpDir('config-cli');
    vi.spyOn(process, 'cwd').mockReturnValue(cwd);
    const bad = await cli({ BILLING_HOME: join(cwd, 'state'), BILLING_DUCKDB_MEMORY_LIMIT: 'lots' }, 'runs');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'error: BILLING_DUCKDB_MEMORY_LIMIT: "lots" is not a memory size like 1GB or 512MB\n',
    );
    const typo = await cli({ BILLING_HOME: join(cwd, 'state'), BILLING_INGEST_CONCURENCY: '4' }, 'runs');
    expect(typo.code).toBe(0);
    const warning =
      'warning: BILLING_INGEST_CONCURENCY is not a known setting; did you mean BILLING_INGEST_CONCURRENCY?\n';
    expect(typo.stderr.split(warning)).toHaveLength(2);
    // A checks file the project file names but that is missing: the line and key, exit 2.
    await writeFile(join(cwd, 'billing-pipeline.yaml'), '# checks\nchecks: ./missing-checks.yaml\n');
    const missing = await cli({ BILLING_HOME: join(cwd, 'state') }, 'runs');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^error: billing-pipeline.yaml:2: checks: cannot read \S+missing-checks.yaml/,
    );
  });
});

describe('billing-pipeline init', () => {
  it('writes a commented file that loads, whose every documented setting is valid, and refuses to overwrite', async () => {
    const dir = await tmpDir('config-init');
    const path = join(dir, 'billing-pipeline.yaml');
    const first = await cli({}, 'init', path);
    expect(first.code).toBe(0);
    const text = await readFile(path, 'utf8');
    expect(text).toMatch(/# memory_limit: 384MB/);
    expect(text).toMatch(/BILLING_INGEST_CONCURRENCY; default: 2/);
    // As written (all commented out), the defaults apply.
    const config = loadConfig({}, { config: path });
    expect(config.settings.get('ingest_concurrency')?.origin).toBe('default');
    // Every setting it shows, switched on, validates too.
    const uncommented = text.replace(/^(\s*)# ([a-z_]+: .+)$/gm, '$1$2');
    await writeFile(path, uncommented);
    const all = loadConfig({}, { config: path });
    expect(all.memoryLimit).toBe('384MB');
    expect(all.threads).toBe(4);
    expect(all.settings.get('scale_out.run_timeout')?.origin).toMatch(/^billing-pipeline.yaml:\d+$/);
    expect(all.source).toBe('s3://bucket/prefix/');

    const again = await cli({}, 'init', path);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    expect(await readFile(path, 'utf8')).toBe(uncommented);
    expect((await cli({}, 'init', path, '--force')).code).toBe(0);
    expect(await readFile(path, 'utf8')).toBe(text);
  });
});

describe('the configuration recorded with a run', () => {
  it('is the effective configuration, secrets redacted, shown by runs show', async () => {
    const p = await testPipeline('config-run');
    await p.put('year=2025/month=04/day=23/a.csv', csv(row({ user_id: '1' })));
    const dir = await project(
      'ingest_concurrency: 3\nchecks:\n  checks:\n    rejected_row_rate: { max_rate: 0.5 }\n',
    );
    vi.spyOn(process, 'cwd').mockReturnValue(dir);
    const env = {
      ...p.env,
      BILLING_SOURCE: p.source,
      BILLING_HOME: join(p.home, 'state'),
      BILLING_API_TOKEN: 'top-secret-token',
    };
    const run = await cli(env, 'materialize');
    expect(run.code).toBe(0);
    const runId = /^run (\S+) success/m.exec(run.stdout)?.[1] ?? '';
    const shown = await cli(env, 'runs', 'show', runId);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('  ingest_concurrency: 3\n');
    expect(shown.stdout).toContain(`  source: ${p.source}\n`);
    expect(shown.stdout).toContain('  checks.checks.rejected_row_rate.max_rate: 0.5\n');
    expect(shown.stdout).toContain('  api.token: ***\n');
    expect(shown.stdout).not.toContain('top-secret-token');
    expect(shown.stdout).not.toContain(join(p.home, 'state'));
    const json = JSON.parse((await cli(env, 'runs', 'show', runId, '--format', 'json')).stdout);
    expect(json.config).toMatchObject({
      ingest_concurrency: 3,
      reporting_currency: 'USD',
      api: { token: '***' },
      duckdb: { memory_limit: '384MB' },
    });
    expect(json.config.checks.checks.rejected_row_rate.max_rate).toBe(0.5);
  });
});

describe('a ledger from before runs recorded their configuration', () => {
  it('gains the column on open; its old runs show none, new runs record theirs', async () => {
    const home = await tmpDir('config-migrate');
    const path = join(home, 'billing.duckdb');
    const old = await openWarehouse({
      path,
      memoryLimit: '256MB',
      threads: 1,
      tempDirectory: join(home, 'tmp'),
    });
    await old.exec(`CREATE TABLE runs (run_id VARCHAR NOT NULL, status VARCHAR NOT NULL, trigger VARCHAR NOT NULL,
      selection VARCHAR[] NOT NULL, partition_from DATE, partition_to DATE, full_refresh BOOLEAN NOT NULL DEFAULT false,
      run_key VARCHAR, created_at TIMESTAMP NOT NULL, started_at TIMESTAMP, finished_at TIMESTAMP, error VARCHAR,
      tags VARCHAR)`);
    await old.exec(`INSERT INTO runs VALUES ('old-run', 'success', 'cli', ['billing_events'], NULL, NULL, false, NULL,
      TIMESTAMP '2025-04-01 00:00:00', NULL, NULL, NULL, NULL)`);
    await old.close();
    const runtime = await openRuntime(
      loadConfig({ BILLING_HOME: home, BILLING_DUCKDB_THREADS: '1' }, { cwd: home }),
    );
    try {
      expect((await runtime.ledger.getRun('old-run'))?.run.config).toBeNull();
      const runId = await runtime.ledger.createRun({
        trigger: 'test',
        selection: [],
        range: null,
        fullRefresh: false,
      });
      const recorded = JSON.parse(String((await runtime.ledger.getRun(runId))?.run.config));
      expect(recorded).toMatchObject({ duckdb: { threads: 1 }, source: null });
      // The process's state paths are its own, not the run's (and runs.config is readable by SQL).
      expect(recorded).not.toHaveProperty('home');
      expect(recorded).not.toHaveProperty('warehouse');
      expect(JSON.stringify(recorded)).not.toContain(home);
    } finally {
      await runtime.close();
    }
  });
});
