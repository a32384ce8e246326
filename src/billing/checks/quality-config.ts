import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SettingError } from '../../config.js';
import {
  KNOWN_CURRENCIES,
  KNOWN_OPERATIONS,
  KNOWN_REGIONS,
  KNOWN_RESOURCE_TYPES,
  KNOWN_TIERS,
  SCHEMA_COLUMNS,
} from '../schema.js';

/**
 * Settings of the built-in checks and the spend-anomaly insight: built-in defaults (spelled out as
 * YAML in docs/quality.md), overlaid by a YAML file (`BILLING_CHECKS_CONFIG`), overlaid by
 * `BILLING_CHECKS_<CHECK>_<SETTING>` / `BILLING_ANOMALIES_SPEND_<SETTING>` variables.
 */

const severity = z.enum(['error', 'warn']);
const base = { enabled: z.boolean(), severity };
const share = z.number().min(0).max(1);
const days = z.number().int().min(1).max(366);
/** An amount that fits the per-event money type, DECIMAL(18,6). */
const amount = z
  .string()
  .regex(/^-?\d{1,12}(\.\d{1,6})?$/, 'must be a decimal with at most 12 integer and 6 fraction digits');
const nonNegativeAmount = amount.refine((v) => !v.startsWith('-'), 'must not be negative');
const ACCEPTED_COLUMNS = ['region', 'service_tier', 'operation_type', 'resource_type', 'currency'] as const;
const anomaly = {
  window_days: days,
  min_history_days: days,
  max_robust_z: z.number().positive(),
  min_relative_change: z.number().min(0),
};

const QualityConfigSchema = z
  .object({
    checks: z
      .object({
        schema_conformance: z.object(base).strict(),
        not_null: z.object({ ...base, columns: z.array(z.enum(SCHEMA_COLUMNS)).min(1) }).strict(),
        accepted_values: z
          .object({
            ...base,
            // An empty list switches that column's check off.
            columns: z.partialRecord(z.enum(ACCEPTED_COLUMNS), z.array(z.string().min(1))),
          })
          .strict(),
        credit_usage_range: z
          .object({ ...base, min: amount.nullable(), max: amount.nullable(), max_refund_share: share })
          .strict(),
        timestamp_window: z
          .object({ ...base, tolerance_hours: z.number().min(0).max(240), max_outside_share: share })
          .strict(),
        rejected_row_rate: z.object({ ...base, max_rate: share }).strict(),
        freshness: z
          .object({
            ...base,
            expected_by: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (UTC)'),
            lookback_days: days,
          })
          .strict(),
        volume_anomaly: z.object({ ...base, ...anomaly }).strict(),
        fx_rate_available: z.object(base).strict(),
        reconciliation: z.object(base).strict(),
        file_row_reconciliation: z.object(base).strict(),
        // on_duplicate decides the load whatever the check's own switch: reject (count once) or load.
        duplicate_file: z.object({ ...base, on_duplicate: z.enum(['reject', 'load']) }).strict(),
      })
      .strict(),
    anomalies: z
      .object({
        spend: z.object({ ...anomaly, min_spend: amount, min_deviation: nonNegativeAmount }).strict(),
      })
      .strict(),
  })
  .strict();

export type QualityConfig = z.infer<typeof QualityConfigSchema>;
export type CheckSettings = QualityConfig['checks'];
export type SpendAnomalySettings = QualityConfig['anomalies']['spend'];

/** The defaults; docs/quality.md spells out the same values (a test keeps them equal). */
export const DEFAULT_QUALITY_CONFIG: QualityConfig = {
  checks: {
    schema_conformance: { enabled: true, severity: 'error' },
    not_null: {
      enabled: true,
      severity: 'error',
      columns: ['timestamp', 'user_id', 'credit_usage', 'success', 'currency'],
    },
    accepted_values: {
      enabled: true,
      severity: 'warn',
      columns: {
        region: [...KNOWN_REGIONS],
        service_tier: [...KNOWN_TIERS],
        operation_type: [...KNOWN_OPERATIONS],
        resource_type: [...KNOWN_RESOURCE_TYPES],
        currency: [...KNOWN_CURRENCIES],
      },
    },
    credit_usage_range: {
      enabled: true,
      severity: 'warn',
      min: '-1000000',
      max: '1000000',
      max_refund_share: 0.02,
    },
    timestamp_window: { enabled: true, severity: 'warn', tolerance_hours: 3, max_outside_share: 0 },
    rejected_row_rate: { enabled: true, severity: 'warn', max_rate: 0.05 },
    freshness: { enabled: true, severity: 'warn', expected_by: '06:00', lookback_days: 3 },
    volume_anomaly: {
      enabled: true,
      severity: 'warn',
      window_days: 14,
      min_history_days: 7,
      max_robust_z: 6,
      min_relative_change: 0.5,
    },
    fx_rate_available: { enabled: true, severity: 'error' },
    reconciliation: { enabled: true, severity: 'error' },
    file_row_reconciliation: { enabled: true, severity: 'error' },
    duplicate_file: { enabled: true, severity: 'error', on_duplicate: 'reject' },
  },
  anomalies: {
    spend: {
      window_days: 14,
      min_history_days: 7,
      max_robust_z: 5,
      min_relative_change: 1,
      min_spend: '1',
      // Money at stake, in the reporting currency: below it a day is noise for a finance reader
      // (a small account's day swings by tens of units on a few large charges; see docs/quality.md).
      min_deviation: '100',
    },
  },
};

export type Plain = { [key: string]: unknown };
export const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` wins; objects merge key by key, everything else (lists included) is replaced. */
export function mergeSettings(under: unknown, over: unknown): unknown {
  if (!isPlain(under) || !isPlain(over)) return over === undefined ? under : over;
  const out: Plain = { ...under };
  for (const [key, value] of Object.entries(over)) out[key] = mergeSettings(under[key], value);
  return out;
}

const ENV_SECTIONS: Record<string, string> = { checks: 'BILLING_CHECKS_', anomalies: 'BILLING_ANOMALIES_' };
const RESERVED_ENV = new Set(['BILLING_CHECKS_CONFIG']);

/** Every scalar or list setting with its variable name, from the shape of the defaults. */
function envSettings(): { name: string; path: string[]; sample: unknown }[] {
  const out: { name: string; path: string[]; sample: unknown }[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (isPlain(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      return;
    }
    const [section = '', ...rest] = path;
    out.push({ name: `${ENV_SECTIONS[section]}${rest.join('_').toUpperCase()}`, path, sample: value });
  };
  walk(DEFAULT_QUALITY_CONFIG, []);
  return out;
}

function fromEnv(name: string, raw: string, sample: unknown): unknown {
  const value = raw.trim();
  if (typeof sample === 'boolean') {
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
    throw new SettingError(`${name}="${raw}" must be true or false`);
  }
  if (typeof sample === 'number') {
    const n = Number(value);
    if (value === '' || !Number.isFinite(n)) throw new SettingError(`${name}="${raw}" must be a number`);
    return n;
  }
  if (Array.isArray(sample)) return value === '' ? [] : value.split(',').map((v) => v.trim());
  // Decimal bounds: empty means "no bound".
  if (sample === null || name.endsWith('_MIN') || name.endsWith('_MAX')) return value === '' ? null : value;
  return value;
}

function applyEnv(config: unknown, env: NodeJS.ProcessEnv): unknown {
  const settings = envSettings();
  const byName = new Map(settings.map((s) => [s.name, s]));
  let out = config;
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || RESERVED_ENV.has(name)) continue;
    if (!Object.values(ENV_SECTIONS).some((prefix) => name.startsWith(prefix))) continue;
    const setting = byName.get(name);
    if (!setting) {
      const prefix = name.split('_').slice(0, 3).join('_');
      const near = settings.filter((s) => s.name.startsWith(prefix)).map((s) => s.name);
      throw new SettingError(
        `${name} is not a check setting${near.length > 0 ? `; did you mean one of ${near.slice(0, 6).join(', ')}` : ' (see docs/quality.md)'}`,
      );
    }
    const patch = setting.path.reduceRight<unknown>(
      (inner, key) => ({ [key]: inner }),
      fromEnv(name, raw, setting.sample),
    );
    out = mergeSettings(out, patch);
  }
  return out;
}

/** Parses YAML text as a partial config (anything left out keeps its default). */
export function parseQualityYaml(text: string, origin: string): unknown {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new SettingError(`${origin} is not valid YAML: ${error instanceof Error ? error.message : error}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlain(parsed))
    throw new SettingError(`${origin} must be a mapping with "checks:" and/or "anomalies:"`);
  return parsed;
}

/** Validates a merged config, naming every offending setting by its path. */
export function validateQualityConfig(value: unknown, origin: string): QualityConfig {
  const result = QualityConfigSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => {
    const path = i.path.join('.');
    const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
    return `${path || '(top level)'}: ${i.message}${keys}`;
  });
  throw new SettingError(`invalid check settings in ${origin}: ${issues.join('; ')}`);
}

export interface LoadQualityConfigOptions {
  /** BILLING_CHECKS_CONFIG: a YAML file; null for the defaults. */
  file: string | null;
  /** `checks:` of billing-pipeline.yaml as a mapping: the same shape as the file, inline. */
  inline?: Record<string, unknown> | null;
  /** Where `file` was named (`BILLING_CHECKS_CONFIG`, `billing-pipeline.yaml:4`), for messages. */
  origin?: string;
  env: NodeJS.ProcessEnv;
}

export async function loadQualityConfig(options: LoadQualityConfigOptions): Promise<QualityConfig> {
  let overlay: unknown = {};
  if (options.file) {
    let text: string;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (error) {
      throw new SettingError(
        `${options.origin?.includes(':') ? `${options.origin}: checks: cannot read` : `cannot read ${options.origin ?? 'BILLING_CHECKS_CONFIG'}`} ${options.file}: ${error instanceof Error ? error.message : error}`,
      );
    }
    overlay = parseQualityYaml(text, options.file);
  } else if (options.inline) {
    overlay = options.inline;
  }
  const merged = applyEnv(mergeSettings(DEFAULT_QUALITY_CONFIG, overlay), options.env);
  const origin = options.file
    ? `${options.file} (with BILLING_CHECKS_* overrides)`
    : options.inline
      ? 'checks: of billing-pipeline.yaml (with BILLING_CHECKS_* overrides)'
      : 'BILLING_CHECKS_* variables';
  return validateQualityConfig(merged, origin);
}
