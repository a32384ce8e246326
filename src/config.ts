import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { IngestParser } from './billing/ingest/native-parse.js';
import { findConfigFile, readConfigFile } from './config/config-file.js';
import { SettingError } from './config/errors.js';
import { parseSetting, redactUrl, unknownVariables } from './config/setting-values.js';
import { SETTINGS, type SettingDef, type SettingValue, VARIABLE_CHECKS } from './config/settings.js';

export { CONFIG_FILE_NAME } from './config/config-file.js';
export { ConfigError, SettingError } from './config/errors.js';
export { redactUrl } from './config/setting-values.js';

/**
 * Everything the pipeline is configured with, resolved once and passed explicitly. Each setting
 * comes from a flag, else a variable, else billing-pipeline.yaml, else its default (README,
 * "Configuration"); `settings` says which for each.
 */
export interface Config {
  /** BILLING_HOME: state and scratch space (default ./data). */
  home: string;
  /** BILLING_WAREHOUSE: the DuckDB file (default $BILLING_HOME/billing.duckdb). */
  warehousePath: string;
  /** BILLING_SOURCE: s3://bucket/prefix/ or a folder; null when not configured. */
  source: string | null;
  /**
   * BILLING_DATABASE_URL: a `postgres://` URL switches the warehouse, ledger and run queue to
   * PostgreSQL (scale-out mode, docs/scale-out.md); null for the embedded DuckDB file.
   */
  databaseUrl: string | null;
  /** BILLING_DUCKDB_MEMORY_LIMIT (default 384MB). */
  memoryLimit: string;
  /** BILLING_DUCKDB_THREADS (default: cores). */
  threads: number;
  /** BILLING_INGEST_CONCURRENCY: files parsed at once (default 2). */
  ingestConcurrency: number;
  /** BILLING_INGEST_PARSER: native (DuckDB read_csv where it can vouch for a file) or js. */
  ingestParser: IngestParser;
  /** BILLING_FX_SOURCE: the FX rate CSV, `s3://bucket/key.csv` or a local path; null when not configured. */
  fxSource: string | null;
  /** BILLING_REPORTING_CURRENCY: what amounts are normalized to (default USD). */
  reportingCurrency: string;
  /** BILLING_CHECKS_CONFIG / `checks:` as a path: a YAML file of check settings (docs/quality.md); null for the defaults. */
  checksConfig: string | null;
  /** `checks:` in billing-pipeline.yaml as a mapping: the check settings inline. */
  checksInline: Record<string, unknown> | null;
  /**
   * `budgets:` / BILLING_BUDGETS_CONFIG: a path to a YAML list of budgets, or the list inline, and
   * where it came from; null when unset. Parsed by src/billing/budgets.
   */
  budgetsSetting: { value: string | unknown[]; origin: string } | null;
  /**
   * `alerts:` / BILLING_ALERTS_CONFIG: a path to a YAML mapping of alert settings, or the mapping
   * inline, and where it came from; null when unset. Parsed by src/alerts.
   */
  alertsSetting: { value: string | Record<string, unknown>; origin: string } | null;
  /** The project configuration file read, if any. */
  configFile: string | null;
  /** Every setting's effective value and where it came from (`--source`, `BILLING_SOURCE`, `billing-pipeline.yaml:3`, `default`). */
  settings: ReadonlyMap<string, EffectiveSetting>;
  /** Unknown BILLING_* variables, with the nearest known name (printed once by the CLI). */
  warnings: readonly string[];
  /** Sensors, schedules, retries and the daemon's API (see docs/automation.md). */
  automation: AutomationConfig;
  /** The job queue of the scale-out mode (see docs/scale-out.md); used only with `databaseUrl`. */
  queue: QueueConfig;
  env: NodeJS.ProcessEnv;
}

export interface AutomationConfig {
  /** BILLING_S3_SENSOR_INTERVAL seconds between S3 sensor ticks (default 300, at least 1). */
  s3SensorIntervalSeconds: number;
  /** BILLING_S3_SENSOR_RECONCILE_INTERVAL seconds between full bucket listings (default 900). */
  s3SensorReconcileSeconds: number;
  /** BILLING_FILE_SENSOR_INTERVAL seconds between local folder sensor ticks (default 3600). */
  fileSensorIntervalSeconds: number;
  /** BILLING_DAILY_SCHEDULE_CRON (default `0 0 * * *`). */
  dailyScheduleCron: string;
  /** BILLING_SCHEDULE_TIMEZONE: IANA zone the cron is read in (default UTC). */
  scheduleTimezone: string;
  /** BILLING_SOURCE_RETRIES: extra attempts for transient source errors (default 4; 0 disables). */
  sourceRetries: number;
  /** BILLING_SOURCE_RETRY_BASE_MS / BILLING_SOURCE_RETRY_MAX_MS: backoff base and cap. */
  sourceRetryBaseMs: number;
  sourceRetryMaxMs: number;
  /** BILLING_SQL_TIMEOUT_MS: the daemon's SQL endpoint interrupts a query after this (default 10000). */
  sqlTimeoutMs: number;
  /** BILLING_SQL_MAX_CONCURRENT: SQL endpoint queries running at once (default 2). */
  sqlMaxConcurrent: number;
  /** BILLING_SQL_MAX_RESULT_BYTES: the SQL endpoint's cap on a result's JSON size (default 16 MiB). */
  sqlMaxResultBytes: number;
  /** BILLING_API_BODY_LIMIT: request bodies above this many bytes get 413 (default 1 MiB). */
  apiBodyLimitBytes: number;
  /** BILLING_API_TOKEN: bearer token the daemon requires (mandatory off loopback). */
  apiToken: string | null;
}

export interface QueueConfig {
  /** BILLING_TASK_TIMEOUT seconds: a task running longer is presumed lost and retried (default 900). */
  taskTimeoutSeconds: number;
  /** BILLING_RUN_TIMEOUT seconds: the same for a run's coordinator (default 21600). */
  runTimeoutSeconds: number;
  /** BILLING_RUN_LEASE_TIMEOUT seconds without a coordinator's heartbeat before its run is resumed elsewhere (default 60). */
  runLeaseTimeoutSeconds: number;
  /** BILLING_QUEUE_RETRIES: extra attempts for a failed or lost task or run (default 3). */
  retries: number;
  /** BILLING_QUEUE_RETRY_DELAY seconds: the first retry's delay, doubling after (default 2). */
  retryDelaySeconds: number;
  /** BILLING_QUEUE_MAINTENANCE_INTERVAL seconds between looks for expired jobs (default 30). */
  maintenanceIntervalSeconds: number;
  /** BILLING_WORKER_NOTICE_AFTER seconds before a waiting submitter says no worker took its run (default 5). */
  workerNoticeAfterSeconds: number;
  /** BILLING_QUEUE_WAIT_TIMEOUT seconds a waiting submitter waits for a worker; 0 for no limit. */
  waitTimeoutSeconds: number;
}

export interface EffectiveSetting {
  value: SettingValue;
  origin: string;
}

export interface ConfigOverrides {
  home?: string;
  warehouse?: string;
  source?: string;
  databaseUrl?: string;
  /** `--config FILE`: the project configuration file to read instead of looking for one. */
  config?: string;
  /** Where `billing-pipeline.yaml` is looked for first (default: the working directory). */
  cwd?: string;
}

const FLAG_OVERRIDES: Record<string, keyof ConfigOverrides> = {
  home: 'home',
  warehouse: 'warehouse',
  source: 'source',
  'scale_out.database_url': 'databaseUrl',
};

function fail(problems: string[]): never {
  throw new SettingError(
    problems.length === 1 ? (problems[0] ?? '') : `invalid settings:\n  ${problems.join('\n  ')}`,
  );
}

/** Kinds whose text value from a flag or variable is a path, resolved against the working directory. */
const PATH_KINDS: ReadonlySet<SettingDef['kind']> = new Set(['path', 'checks', 'budgets', 'alerts']);

/** One setting from a flag or a variable; empty means unset. */
function fromText(
  def: SettingDef,
  raw: string | undefined,
  origin: string,
  problems: string[],
): EffectiveSetting | null {
  if (raw === undefined || raw.trim() === '') return null;
  const parsed = parseSetting(def, raw);
  if (!parsed.ok) {
    problems.push(`${origin}: ${parsed.message}`);
    return null;
  }
  const value = PATH_KINDS.has(def.kind) ? resolve(String(parsed.value)) : parsed.value;
  return { value, origin };
}

/** The automation settings alone, from variables (tests and tools that build one directly). */
export function loadAutomationConfig(env: NodeJS.ProcessEnv): AutomationConfig {
  return automationOf(resolveSettings(env, {}).settings);
}

function automationOf(settings: ReadonlyMap<string, EffectiveSetting>): AutomationConfig {
  const int = (key: string) => Number(settings.get(key)?.value);
  const token = settings.get('api.token')?.value;
  return {
    s3SensorIntervalSeconds: int('sensors.s3_interval'),
    s3SensorReconcileSeconds: int('sensors.s3_reconcile_interval'),
    fileSensorIntervalSeconds: int('sensors.file_interval'),
    dailyScheduleCron: String(settings.get('schedule.daily_cron')?.value),
    scheduleTimezone: String(settings.get('schedule.timezone')?.value),
    sourceRetries: int('source_retries.retries'),
    sourceRetryBaseMs: int('source_retries.base_ms'),
    sourceRetryMaxMs: int('source_retries.max_ms'),
    sqlTimeoutMs: int('api.sql_timeout_ms'),
    sqlMaxConcurrent: int('api.sql_max_concurrent'),
    sqlMaxResultBytes: int('api.sql_max_result_bytes'),
    apiBodyLimitBytes: int('api.body_limit'),
    apiToken: typeof token === 'string' && token !== '' ? token : null,
  };
}

/** Flag > variable > file > default, for every setting; every bad value is named, all at once. */
function resolveSettings(
  env: NodeJS.ProcessEnv,
  overrides: ConfigOverrides,
): { settings: Map<string, EffectiveSetting>; configFile: string | null } {
  const problems: string[] = [];
  const defs = new Map(SETTINGS.map((d) => [d.key, d]));
  const early = (key: string): EffectiveSetting | null => {
    const def = defs.get(key) as SettingDef;
    const flag = FLAG_OVERRIDES[key];
    return (
      (flag ? fromText(def, overrides[flag], def.flag ?? key, problems) : null) ??
      fromText(def, env[def.env], def.env, problems)
    );
  };
  const cwd = overrides.cwd ?? process.cwd();
  const explicit = overrides.config
    ? { value: overrides.config, origin: '--config' }
    : env.BILLING_CONFIG?.trim()
      ? { value: env.BILLING_CONFIG.trim(), origin: 'BILLING_CONFIG' }
      : null;
  for (const [name, check] of Object.entries(VARIABLE_CHECKS)) {
    const raw = env[name];
    const problem = raw === undefined || raw.trim() === '' ? null : check(raw);
    if (problem) problems.push(`${name}: ${problem}`);
  }
  const earlyHome = early('home');
  if (problems.length > 0) fail(problems);
  const configFile = findConfigFile({
    explicit,
    cwd,
    home: earlyHome ? String(earlyHome.value) : resolve(cwd, 'data'),
  });
  const file = configFile ? readConfigFile(configFile) : new Map();
  const settings = new Map<string, EffectiveSetting>();
  for (const def of SETTINGS) {
    const chosen = (def.key === 'home' ? earlyHome : early(def.key)) ?? file.get(def.key) ?? null;
    if (chosen) settings.set(def.key, chosen);
    else if (def.fallback !== null) {
      const value = def.kind === 'path' ? resolve(cwd, String(def.fallback)) : def.fallback;
      settings.set(def.key, { value, origin: 'default' });
    } else settings.set(def.key, { value: null, origin: 'default' });
  }
  if (problems.length > 0) fail(problems);
  return { settings, configFile };
}

/**
 * Settings of a Config as the file would hold them (nested by key), secrets redacted and without
 * the process's own state paths (home, warehouse): what a run records, readable through /api/sql.
 */
export function effectiveSettings(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const def of SETTINGS) {
    if (def.processLocal) continue;
    let value = config.settings.get(def.key)?.value ?? null;
    if (def.kind === 'secret' && value !== null) value = '***';
    if (def.kind === 'postgres-url' && typeof value === 'string') value = redactUrl(value);
    // A folder named relative to where a process started means nothing to another process.
    if (def.kind === 'location' && typeof value === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value))
      value = resolve(value);
    const parts = def.key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1] ?? def.key] = value;
  }
  return out;
}

/** A path-or-inline setting as its loader takes it; null when unset. */
function sectionSetting<T>(
  setting: EffectiveSetting | undefined,
  isInline: (value: unknown) => boolean,
): { value: string | T; origin: string } | null {
  const v = setting?.value;
  if (!setting || v === null || v === undefined || v === '') return null;
  if (typeof v === 'string' || isInline(v)) return { value: v as string | T, origin: setting.origin };
  return null;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const { settings, configFile } = resolveSettings(env, overrides);
  const value = (key: string) => settings.get(key)?.value ?? null;
  const text = (key: string) => {
    const v = value(key);
    return typeof v === 'string' && v !== '' ? v : null;
  };
  const int = (key: string) => Number(value(key));
  const home = text('home') ?? resolve('data');
  const checks = value('checks');
  if (value('duckdb.threads') === null)
    settings.set('duckdb.threads', { value: availableParallelism(), origin: 'default' });
  const warehouse = text('warehouse');
  if (warehouse === null)
    settings.set('warehouse', { value: join(home, 'billing.duckdb'), origin: 'default' });
  return {
    home,
    warehousePath: warehouse ?? join(home, 'billing.duckdb'),
    source: text('source'),
    databaseUrl: text('scale_out.database_url'),
    memoryLimit: String(value('duckdb.memory_limit')),
    threads: int('duckdb.threads'),
    ingestConcurrency: int('ingest_concurrency'),
    ingestParser: value('ingest_parser') === 'js' ? 'js' : 'native',
    fxSource: text('fx_source'),
    reportingCurrency: String(value('reporting_currency')),
    checksConfig: typeof checks === 'string' && checks !== '' ? checks : null,
    checksInline: typeof checks === 'object' && checks !== null && !Array.isArray(checks) ? checks : null,
    budgetsSetting: sectionSetting<unknown[]>(settings.get('budgets'), Array.isArray),
    alertsSetting: sectionSetting<Record<string, unknown>>(
      settings.get('alerts'),
      (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
    ),
    configFile,
    settings,
    warnings: unknownVariables(env),
    automation: automationOf(settings),
    queue: {
      taskTimeoutSeconds: int('scale_out.task_timeout'),
      runTimeoutSeconds: int('scale_out.run_timeout'),
      runLeaseTimeoutSeconds: int('scale_out.run_lease_timeout'),
      retries: int('scale_out.retries'),
      retryDelaySeconds: int('scale_out.retry_delay'),
      maintenanceIntervalSeconds: int('scale_out.maintenance_interval'),
      workerNoticeAfterSeconds: int('scale_out.worker_notice_after'),
      waitTimeoutSeconds: int('scale_out.wait_timeout'),
    },
    env,
  };
}
