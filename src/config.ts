import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

/** Everything the pipeline reads from the environment, resolved once and passed explicitly. */
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
  /** BILLING_DUCKDB_MEMORY_LIMIT (default 1GB). */
  memoryLimit: string;
  /** BILLING_DUCKDB_THREADS (default: cores). */
  threads: number;
  /** BILLING_INGEST_CONCURRENCY: files parsed at once (default 2). */
  ingestConcurrency: number;
  /** BILLING_FX_SOURCE: the FX rate CSV, `s3://bucket/key.csv` or a local path; null when not configured. */
  fxSource: string | null;
  /** BILLING_REPORTING_CURRENCY: what amounts are normalized to (default USD). */
  reportingCurrency: string;
  /** BILLING_CHECKS_CONFIG: a YAML file of check settings (see docs/quality.md); null for the defaults. */
  checksConfig: string | null;
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
  /** BILLING_API_TOKEN: bearer token the daemon requires (mandatory off loopback). */
  apiToken: string | null;
}

export interface QueueConfig {
  /** BILLING_TASK_TIMEOUT seconds: a task running longer is presumed lost and retried (default 900). */
  taskTimeoutSeconds: number;
  /** BILLING_RUN_TIMEOUT seconds: the same for a run's coordinator (default 21600). */
  runTimeoutSeconds: number;
  /** BILLING_QUEUE_RETRIES: extra attempts for a failed or lost task or run (default 3). */
  retries: number;
  /** BILLING_QUEUE_RETRY_DELAY seconds: the first retry's delay, doubling after (default 2). */
  retryDelaySeconds: number;
  /** BILLING_QUEUE_MAINTENANCE_INTERVAL seconds between looks for expired jobs (default 30). */
  maintenanceIntervalSeconds: number;
}

export interface ConfigOverrides {
  home?: string;
  warehouse?: string;
  source?: string;
  databaseUrl?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`${name}="${raw}" must be a positive integer`);
  return value;
}

function nonNegativeInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new ConfigError(`${name}="${raw}" must be a whole number (0 or more)`);
  return value;
}

function timezone(env: NodeJS.ProcessEnv, name: string): string {
  const zone = env[name]?.trim() || 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new ConfigError(`${name}="${zone}" is not an IANA time zone (e.g. UTC, Europe/Berlin)`);
  }
  return zone;
}

export function loadAutomationConfig(env: NodeJS.ProcessEnv): AutomationConfig {
  return {
    s3SensorIntervalSeconds: positiveInt(env, 'BILLING_S3_SENSOR_INTERVAL', 300),
    s3SensorReconcileSeconds: positiveInt(env, 'BILLING_S3_SENSOR_RECONCILE_INTERVAL', 900),
    fileSensorIntervalSeconds: positiveInt(env, 'BILLING_FILE_SENSOR_INTERVAL', 3600),
    dailyScheduleCron: env.BILLING_DAILY_SCHEDULE_CRON?.trim() || '0 0 * * *',
    scheduleTimezone: timezone(env, 'BILLING_SCHEDULE_TIMEZONE'),
    sourceRetries: nonNegativeInt(env, 'BILLING_SOURCE_RETRIES', 4),
    sourceRetryBaseMs: positiveInt(env, 'BILLING_SOURCE_RETRY_BASE_MS', 500),
    sourceRetryMaxMs: positiveInt(env, 'BILLING_SOURCE_RETRY_MAX_MS', 30_000),
    sqlTimeoutMs: positiveInt(env, 'BILLING_SQL_TIMEOUT_MS', 10_000),
    apiToken: env.BILLING_API_TOKEN?.trim() || null,
  };
}

function currencyCode(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^[A-Za-z]{3}$/.test(raw))
    throw new ConfigError(`${name}="${raw}" must be a three-letter currency code, e.g. USD`);
  return raw.toUpperCase();
}

function databaseUrl(raw: string | undefined): string | null {
  const url = raw?.trim();
  if (!url) return null;
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new ConfigError(
      'BILLING_DATABASE_URL / --database-url must be a postgres:// URL, e.g. postgres://user:password@host:5432/billing',
    );
  return url;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const home = resolve(overrides.home ?? env.BILLING_HOME ?? 'data');
  const warehouse = overrides.warehouse ?? env.BILLING_WAREHOUSE;
  return {
    home,
    warehousePath: warehouse ? resolve(warehouse) : join(home, 'billing.duckdb'),
    source: overrides.source ?? (env.BILLING_SOURCE || null),
    databaseUrl: databaseUrl(overrides.databaseUrl ?? env.BILLING_DATABASE_URL),
    memoryLimit: env.BILLING_DUCKDB_MEMORY_LIMIT || '1GB',
    threads: positiveInt(env, 'BILLING_DUCKDB_THREADS', availableParallelism()),
    ingestConcurrency: positiveInt(env, 'BILLING_INGEST_CONCURRENCY', 2),
    fxSource: env.BILLING_FX_SOURCE?.trim() || null,
    reportingCurrency: currencyCode(env, 'BILLING_REPORTING_CURRENCY', 'USD'),
    checksConfig: env.BILLING_CHECKS_CONFIG?.trim() || null,
    automation: loadAutomationConfig(env),
    queue: {
      taskTimeoutSeconds: positiveInt(env, 'BILLING_TASK_TIMEOUT', 900),
      runTimeoutSeconds: positiveInt(env, 'BILLING_RUN_TIMEOUT', 21_600),
      retries: nonNegativeInt(env, 'BILLING_QUEUE_RETRIES', 3),
      retryDelaySeconds: positiveInt(env, 'BILLING_QUEUE_RETRY_DELAY', 2),
      maintenanceIntervalSeconds: positiveInt(env, 'BILLING_QUEUE_MAINTENANCE_INTERVAL', 30),
    },
    env,
  };
}
