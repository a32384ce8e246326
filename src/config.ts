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
  /** BILLING_DUCKDB_MEMORY_LIMIT (default 1GB). */
  memoryLimit: string;
  /** BILLING_DUCKDB_THREADS (default: cores). */
  threads: number;
  /** BILLING_INGEST_CONCURRENCY: files parsed at once (default 2). */
  ingestConcurrency: number;
  env: NodeJS.ProcessEnv;
}

export interface ConfigOverrides {
  home?: string;
  warehouse?: string;
  source?: string;
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const home = resolve(overrides.home ?? env.BILLING_HOME ?? 'data');
  const warehouse = overrides.warehouse ?? env.BILLING_WAREHOUSE;
  return {
    home,
    warehousePath: warehouse ? resolve(warehouse) : join(home, 'billing.duckdb'),
    source: overrides.source ?? (env.BILLING_SOURCE || null),
    memoryLimit: env.BILLING_DUCKDB_MEMORY_LIMIT || '1GB',
    threads: positiveInt(env, 'BILLING_DUCKDB_THREADS', availableParallelism()),
    ingestConcurrency: positiveInt(env, 'BILLING_INGEST_CONCURRENCY', 2),
    env,
  };
}
