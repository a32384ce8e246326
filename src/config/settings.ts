/**
 * Every setting of the pipeline, once: its key in billing-pipeline.yaml, its variable, its flag,
 * how it is validated, its default and what it means. The file schema, the variable parsing, the
 * unknown-name suggestions and `billing-pipeline init` all come from this list.
 */

export type SettingKind =
  | 'text'
  | 'path'
  | 'location'
  | 'positive-int'
  | 'non-negative-int'
  | 'memory'
  | 'currency'
  | 'cron'
  | 'timezone'
  | 'postgres-url'
  | 'secret'
  | 'checks'
  | 'budgets'
  | 'alerts'
  | 'ingest-parser';

export interface SettingDef {
  /** Dotted path in billing-pipeline.yaml, e.g. `duckdb.memory_limit`. */
  key: string;
  env: string;
  flag?: string;
  kind: SettingKind;
  /** Shown by `init` and the docs; null when unset by default. */
  fallback: string | number | null;
  /** The default as words, when it is not a literal (`CPU cores`). */
  fallbackText?: string;
  doc: string;
  /** What `init` writes when there is no default to show. */
  example?: string | number;
  /**
   * Changes what a run does (source, rates, checks): compared with a daemon's before handing it a
   * run, and applied by scale-out workers from the run's recorded configuration.
   */
  run?: boolean;
  /**
   * Where this process keeps its state (home, warehouse file): the process's, not the run's. Left
   * out of the configuration a run records, which anyone with SQL access can read (`runs.config`).
   */
  processLocal?: boolean;
}

export const SETTINGS: readonly SettingDef[] = [
  {
    key: 'source',
    env: 'BILLING_SOURCE',
    flag: '--source',
    kind: 'location',
    fallback: null,
    doc: 'billing files: s3://bucket/prefix/ or a local folder',
    example: 's3://bucket/prefix/',
    run: true,
  },
  {
    key: 'fx_source',
    env: 'BILLING_FX_SOURCE',
    kind: 'location',
    fallback: null,
    doc: 'FX rate CSV (date,currency,rate): s3://bucket/key.csv or a path',
    example: './fx-rates.csv',
    run: true,
  },
  {
    key: 'reporting_currency',
    env: 'BILLING_REPORTING_CURRENCY',
    kind: 'currency',
    fallback: 'USD',
    doc: 'the currency normalized_credit_usage is in (three letters)',
    run: true,
  },
  {
    key: 'checks',
    env: 'BILLING_CHECKS_CONFIG',
    kind: 'checks',
    fallback: null,
    fallbackText: 'built-in defaults',
    doc: 'check settings: a path to a checks YAML, or the settings inline (docs/quality.md)',
    example: './checks.yaml',
    run: true,
  },
  {
    key: 'budgets',
    env: 'BILLING_BUDGETS_CONFIG',
    kind: 'budgets',
    fallback: null,
    fallbackText: 'none',
    doc: 'spend budgets: a path to a YAML list of budgets, or the list inline (docs/budgets-alerts.md)',
    example: './budgets.yaml',
    run: true,
  },
  {
    key: 'alerts',
    env: 'BILLING_ALERTS_CONFIG',
    kind: 'alerts',
    fallback: null,
    fallbackText: 'built-in rules, no channels',
    doc: 'alert rules, channels and delivery: a path to a YAML mapping, or the mapping inline (docs/budgets-alerts.md)',
    example: './alerts.yaml',
  },
  {
    key: 'ingest_concurrency',
    env: 'BILLING_INGEST_CONCURRENCY',
    kind: 'positive-int',
    fallback: 2,
    doc: 'files downloaded and parsed at once',
    run: true,
  },
  {
    key: 'ingest_parser',
    env: 'BILLING_INGEST_PARSER',
    kind: 'ingest-parser',
    fallback: 'native',
    doc: 'native: DuckDB parses plain files (the JS parser takes any file it cannot vouch for); js: the JS parser for every file',
    run: true,
  },
  {
    key: 'home',
    env: 'BILLING_HOME',
    flag: '--home',
    kind: 'path',
    fallback: './data',
    doc: 'state folder: warehouse, scratch files, daemon.json',
    processLocal: true,
  },
  {
    key: 'warehouse',
    env: 'BILLING_WAREHOUSE',
    flag: '--warehouse',
    kind: 'path',
    fallback: null,
    fallbackText: '$BILLING_HOME/billing.duckdb',
    doc: 'the DuckDB file',
    example: './data/billing.duckdb',
    processLocal: true,
  },
  {
    key: 'lock_wait_ms',
    env: 'BILLING_LOCK_WAIT_MS',
    kind: 'non-negative-int',
    fallback: 30_000,
    doc: 'milliseconds a command waits for a warehouse another process holds (no daemon) before giving up',
  },
  {
    key: 'duckdb.memory_limit',
    env: 'BILLING_DUCKDB_MEMORY_LIMIT',
    kind: 'memory',
    // The process peaks 300-500 MB above this (Node's own ~170 MB, and DuckDB allocations the
    // limit does not cover): one 2.3 GB file from S3 took 1.37 GB RSS at 1GB, 1.0 GB at 512MB and
    // 0.8 GB at 384MB, with normal files as fast at 384MB as at 1GB (bench memory and full).
    fallback: '384MB',
    doc: 'DuckDB memory_limit; beyond it DuckDB spills to $BILLING_HOME/tmp/duckdb (raise it for full refreshes of a large history)',
  },
  {
    key: 'duckdb.threads',
    env: 'BILLING_DUCKDB_THREADS',
    kind: 'positive-int',
    fallback: null,
    fallbackText: 'CPU cores',
    doc: 'DuckDB threads',
    example: 4,
  },
  {
    key: 'sensors.s3_interval',
    env: 'BILLING_S3_SENSOR_INTERVAL',
    kind: 'positive-int',
    fallback: 300,
    doc: 'seconds between S3 sensor ticks',
  },
  {
    key: 'sensors.s3_reconcile_interval',
    env: 'BILLING_S3_SENSOR_RECONCILE_INTERVAL',
    kind: 'positive-int',
    fallback: 900,
    doc: 'seconds between full bucket listings of the S3 sensor',
  },
  {
    key: 'sensors.file_interval',
    env: 'BILLING_FILE_SENSOR_INTERVAL',
    kind: 'positive-int',
    fallback: 3600,
    doc: 'seconds between local folder sensor ticks',
  },
  {
    key: 'schedule.daily_cron',
    env: 'BILLING_DAILY_SCHEDULE_CRON',
    kind: 'cron',
    fallback: '0 0 * * *',
    doc: 'when the daily schedule fires (cron, read in schedule.timezone)',
  },
  {
    key: 'schedule.timezone',
    env: 'BILLING_SCHEDULE_TIMEZONE',
    kind: 'timezone',
    fallback: 'UTC',
    doc: 'IANA time zone of the cron, e.g. Europe/Berlin',
  },
  {
    key: 'source_retries.retries',
    env: 'BILLING_SOURCE_RETRIES',
    kind: 'non-negative-int',
    fallback: 4,
    doc: 'extra attempts for transient source errors (0 disables)',
  },
  {
    key: 'source_retries.base_ms',
    env: 'BILLING_SOURCE_RETRY_BASE_MS',
    kind: 'positive-int',
    fallback: 500,
    doc: 'first retry backoff in milliseconds (doubling, with jitter)',
  },
  {
    key: 'source_retries.max_ms',
    env: 'BILLING_SOURCE_RETRY_MAX_MS',
    kind: 'positive-int',
    fallback: 30_000,
    doc: 'backoff cap in milliseconds',
  },
  {
    key: 'api.sql_timeout_ms',
    env: 'BILLING_SQL_TIMEOUT_MS',
    kind: 'positive-int',
    fallback: 10_000,
    doc: "the daemon's SQL endpoint interrupts a query after this many milliseconds",
  },
  {
    key: 'api.sql_max_concurrent',
    env: 'BILLING_SQL_MAX_CONCURRENT',
    kind: 'positive-int',
    fallback: 2,
    doc: 'SQL endpoint queries running at once; up to four times as many wait, the rest get 429',
  },
  {
    key: 'api.sql_max_result_bytes',
    env: 'BILLING_SQL_MAX_RESULT_BYTES',
    kind: 'positive-int',
    fallback: 16 * 1024 * 1024,
    fallbackText: '16 MiB',
    doc: 'the SQL endpoint stops reading rows once the JSON result would pass this many bytes (truncated: true)',
  },
  {
    key: 'api.body_limit',
    env: 'BILLING_API_BODY_LIMIT',
    kind: 'positive-int',
    fallback: 1024 * 1024,
    fallbackText: '1 MiB',
    doc: 'request bodies larger than this many bytes are refused with 413 before they are read',
  },
  {
    key: 'api.token',
    env: 'BILLING_API_TOKEN',
    kind: 'secret',
    fallback: null,
    doc: 'bearer token the daemon requires; mandatory when it listens beyond loopback',
    example: 'change-me',
  },
  {
    key: 'scale_out.database_url',
    env: 'BILLING_DATABASE_URL',
    flag: '--database-url',
    kind: 'postgres-url',
    fallback: null,
    doc: 'postgres://user:password@host:5432/db switches to the scale-out mode (docs/scale-out.md)',
    example: 'postgres://billing:password@localhost:5432/billing',
  },
  {
    key: 'scale_out.task_timeout',
    env: 'BILLING_TASK_TIMEOUT',
    kind: 'positive-int',
    fallback: 900,
    doc: 'seconds: a task running longer is presumed lost and retried',
  },
  {
    key: 'scale_out.run_timeout',
    env: 'BILLING_RUN_TIMEOUT',
    kind: 'positive-int',
    fallback: 21_600,
    doc: "seconds: the same for a run's coordinator",
  },
  {
    key: 'scale_out.run_lease_timeout',
    env: 'BILLING_RUN_LEASE_TIMEOUT',
    kind: 'positive-int',
    fallback: 60,
    doc: "seconds without a coordinator's heartbeat before another worker resumes its run",
  },
  {
    key: 'scale_out.retries',
    env: 'BILLING_QUEUE_RETRIES',
    kind: 'non-negative-int',
    fallback: 3,
    doc: 'extra attempts for a failed or lost task or run',
  },
  {
    key: 'scale_out.retry_delay',
    env: 'BILLING_QUEUE_RETRY_DELAY',
    kind: 'positive-int',
    fallback: 2,
    doc: 'seconds before the first retry, doubling after',
  },
  {
    key: 'scale_out.maintenance_interval',
    env: 'BILLING_QUEUE_MAINTENANCE_INTERVAL',
    kind: 'positive-int',
    fallback: 30,
    doc: 'seconds between looks for expired jobs',
  },
  {
    key: 'scale_out.worker_notice_after',
    env: 'BILLING_WORKER_NOTICE_AFTER',
    kind: 'positive-int',
    fallback: 5,
    doc: 'seconds a waiting materialize lets pass before saying that no worker has taken its run',
  },
  {
    key: 'scale_out.wait_timeout',
    env: 'BILLING_QUEUE_WAIT_TIMEOUT',
    kind: 'non-negative-int',
    fallback: 0,
    doc: 'seconds a waiting materialize waits for a worker to take its run (0: no limit); the run stays queued',
  },
];

/**
 * Variables read outside this list (each documented where it is read); known, so they draw no
 * "not a known setting" warning. BILLING_CHECKS_* and BILLING_ANOMALIES_* are checked by the check
 * settings themselves (src/billing/checks/quality-config.ts).
 */
export const OTHER_VARIABLES: readonly string[] = [
  'BILLING_CONFIG',
  'BILLING_LOG_FORMAT',
  'BILLING_DEBUG',
  'BILLING_S3_FORCE_PATH_STYLE',
  'BILLING_TEST_POSTGRES_URL',
  'BILLING_TEST_BACKEND',
  // One file per scale-out task, for the tests of per-file task races (task-batches.ts).
  'BILLING_TEST_TASK_BATCH_FILES',
  // Alerts are decided and queued but never sent: the kill -9 test of the outbox (test/alerts/crash.test.ts).
  'BILLING_TEST_ALERT_HOLD_DELIVERY',
];
/**
 * Variables read where they are used (the S3 client reads its own), checked here as well so that a
 * bad value is a usage error at start rather than a failure in the middle of a run.
 */
export const VARIABLE_CHECKS: Readonly<Record<string, (raw: string) => string | null>> = {
  BILLING_S3_FORCE_PATH_STYLE: (raw) =>
    /^(true|false|1|0)$/i.test(raw.trim()) ? null : `${JSON.stringify(raw)} is not a boolean (true or false)`,
};

export const SELF_CHECKED_PREFIXES: readonly string[] = ['BILLING_CHECKS_', 'BILLING_ANOMALIES_'];

export type SettingValue = string | number | Record<string, unknown> | unknown[] | null;
