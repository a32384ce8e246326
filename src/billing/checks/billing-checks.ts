import type { AssetCheckDefinition } from '../../orchestrator/asset-check.js';
import type { AggregateDefinition } from '../aggregates/aggregate-definition.js';
import { aggregateChecks } from './aggregate-checks.js';
import { eventChecks } from './event-checks.js';
import { duplicateFileChecks, fileChecks } from './file-checks.js';
import type { CheckSettings } from './quality-config.js';

export interface BillingChecksOptions {
  settings: CheckSettings;
  reportingCurrency: string;
  /** The configured FX rate file (null: none, so missing rates are a notice, not a failure). */
  fxSource?: string | null;
  aggregates: readonly AggregateDefinition[];
  /** The clock freshness is judged by; tests pass a fixed one. */
  now?: () => Date;
}

/** The built-in checks of every billing asset, by asset name, as configured. */
export function billingChecks(options: BillingChecksOptions): Map<string, AssetCheckDefinition[]> {
  const checks = new Map<string, AssetCheckDefinition[]>();
  checks.set(
    'billing_files',
    fileChecks({ settings: options.settings, now: options.now ?? (() => new Date()) }),
  );
  checks.set('billing_events', [
    ...eventChecks({
      settings: options.settings,
      reportingCurrency: options.reportingCurrency,
      fxSource: options.fxSource ?? null,
    }),
    ...duplicateFileChecks(options.settings),
  ]);
  for (const def of options.aggregates)
    checks.set(def.name, aggregateChecks(def, options.settings, options.reportingCurrency));
  return checks;
}
