import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { billingChecks } from '../../src/billing/checks/billing-checks.js';
import {
  DEFAULT_QUALITY_CONFIG,
  loadQualityConfig,
  parseQualityYaml,
  validateQualityConfig,
} from '../../src/billing/checks/quality-config.js';
import { ConfigError } from '../../src/config.js';
import { tmpDir } from '../support/tmp.js';

const load = (env: NodeJS.ProcessEnv, file: string | null = null) => loadQualityConfig({ file, env });

describe('check settings', () => {
  it('are the defaults when nothing is configured, ignoring unrelated variables', async () => {
    expect(await load({ PATH: '/bin', BILLING_HOME: '/x', BILLING_CHECKS_CONFIG: 'ignored-here' })).toEqual(
      DEFAULT_QUALITY_CONFIG,
    );
  });

  it('take BILLING_CHECKS_* and BILLING_ANOMALIES_* variables: booleans, numbers, lists, empty bounds', async () => {
    const config = await load({
      BILLING_CHECKS_FRESHNESS_ENABLED: 'no',
      BILLING_CHECKS_NOT_NULL_SEVERITY: 'warn',
      BILLING_CHECKS_NOT_NULL_COLUMNS: 'timestamp, region',
      BILLING_CHECKS_TIMESTAMP_WINDOW_TOLERANCE_HOURS: '1.5',
      BILLING_CHECKS_CREDIT_USAGE_RANGE_MIN: '',
      BILLING_CHECKS_CREDIT_USAGE_RANGE_MAX: '250.5',
      BILLING_CHECKS_ACCEPTED_VALUES_COLUMNS_REGION: 'us-east-1,mars-1',
      BILLING_ANOMALIES_SPEND_WINDOW_DAYS: '28',
      BILLING_ANOMALIES_SPEND_MIN_SPEND: '10',
    });
    expect(config.checks.freshness.enabled).toBe(false);
    expect(config.checks.not_null).toEqual({
      enabled: true,
      severity: 'warn',
      columns: ['timestamp', 'region'],
    });
    expect(config.checks.timestamp_window.tolerance_hours).toBe(1.5);
    expect(config.checks.credit_usage_range).toMatchObject({ min: null, max: '250.5' });
    expect(config.checks.accepted_values.columns.region).toEqual(['us-east-1', 'mars-1']);
    expect(config.checks.accepted_values.columns.currency).toEqual(['USD', 'EUR', 'GBP', 'JPY']);
    expect(config.anomalies.spend).toMatchObject({ window_days: 28, min_spend: '10', min_history_days: 7 });
  });

  it('switch one column of accepted_values off with an empty list', async () => {
    const config = await load({ BILLING_CHECKS_ACCEPTED_VALUES_COLUMNS_REGION: '' });
    expect(config.checks.accepted_values.columns.region).toEqual([]);
    const names = (
      billingChecks({ settings: config.checks, reportingCurrency: 'USD', aggregates: [] }).get(
        'billing_events',
      ) ?? []
    ).map((c) => c.name);
    expect(names).not.toContain('accepted_values_region');
    expect(names).toContain('accepted_values_currency');
  });

  it('overlay a YAML file, with variables winning over the file', async () => {
    const dir = await tmpDir('checks-yaml');
    const file = path.join(dir, 'checks.yaml');
    await writeFile(
      file,
      'checks:\n  rejected_row_rate:\n    max_rate: 0.2\n    severity: error\n  accepted_values:\n    columns:\n      currency: [USD]\n',
    );
    const config = await load({ BILLING_CHECKS_REJECTED_ROW_RATE_MAX_RATE: '0.1' }, file);
    expect(config.checks.rejected_row_rate).toEqual({ enabled: true, severity: 'error', max_rate: 0.1 });
    expect(config.checks.accepted_values.columns.currency).toEqual(['USD']);
    expect(config.checks.accepted_values.columns.region).toEqual(
      DEFAULT_QUALITY_CONFIG.checks.accepted_values.columns.region,
    );
  });

  it('reject mistakes with the setting named, never silently', async () => {
    await expect(load({ BILLING_CHECKS_FRESHNES_ENABLED: 'true' })).rejects.toThrow(
      /BILLING_CHECKS_FRESHNES_ENABLED is not a check setting; did you mean one of BILLING_CHECKS_FRESHNESS_ENABLED/,
    );
    await expect(load({ BILLING_CHECKS_FRESHNESS_ENABLED: 'maybe' })).rejects.toThrow(
      'BILLING_CHECKS_FRESHNESS_ENABLED="maybe" must be true or false',
    );
    await expect(load({ BILLING_CHECKS_REJECTED_ROW_RATE_MAX_RATE: 'lots' })).rejects.toThrow(
      'BILLING_CHECKS_REJECTED_ROW_RATE_MAX_RATE="lots" must be a number',
    );
    await expect(load({ BILLING_CHECKS_REJECTED_ROW_RATE_MAX_RATE: '1.5' })).rejects.toThrow(
      /checks\.rejected_row_rate\.max_rate: /,
    );
    await expect(load({ BILLING_CHECKS_NOT_NULL_SEVERITY: 'fatal' })).rejects.toThrow(
      /checks\.not_null\.severity: /,
    );
    await expect(load({ BILLING_CHECKS_FRESHNESS_EXPECTED_BY: '6am' })).rejects.toThrow(
      /checks\.freshness\.expected_by: must be HH:MM \(UTC\)/,
    );
    await expect(load({ BILLING_CHECKS_CREDIT_USAGE_RANGE_MAX: '1e6' })).rejects.toThrow(
      /checks\.credit_usage_range\.max: must be a decimal/,
    );
    await expect(load({ BILLING_CHECKS_NOT_NULL_COLUMNS: 'timestamp,colour' })).rejects.toThrow(
      /checks\.not_null\.columns\.1: /,
    );
    expect(() => validateQualityConfig({ ...DEFAULT_QUALITY_CONFIG, extra: 1 }, 'x')).toThrow(
      /\(top level\): .*\(extra\)/,
    );
    expect(() => parseQualityYaml('- a\n- b\n', 'f.yaml')).toThrow(ConfigError);
    await expect(load({}, '/nonexistent/checks.yaml')).rejects.toThrow(/cannot read BILLING_CHECKS_CONFIG/);
  });

  it('are documented: the YAML in docs/quality.md spells out exactly the defaults', async () => {
    const docs = await readFile(path.join(import.meta.dirname, '../../docs/quality.md'), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(block).toBeDefined();
    expect(validateQualityConfig(parseQualityYaml(block ?? '', 'docs'), 'docs')).toEqual(
      DEFAULT_QUALITY_CONFIG,
    );
  });
});
