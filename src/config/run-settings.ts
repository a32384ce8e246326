import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../config.js';
import { SETTINGS } from './settings.js';

/** The settings that change what a run does: compared with a daemon's, applied by workers. */
export const RUN_SETTING_KEYS: readonly string[] = SETTINGS.filter((s) => s.run).map((s) => s.key);

export interface SettingDifference {
  key: string;
  /** Where this process's value came from (`BILLING_FX_SOURCE`, `billing-pipeline.yaml:3`). */
  origin: string;
  mine: unknown;
  theirs: unknown;
}

const shown = (value: unknown): string =>
  value === null || value === undefined
    ? 'not set'
    : typeof value === 'object'
      ? 'other settings'
      : String(value);

/**
 * The run settings this process sets (by flag, variable or file: a default is inherited) whose
 * values differ from another process's recorded configuration.
 */
export function runSettingDifferences(
  config: Config,
  mine: Record<string, unknown>,
  theirs: Record<string, unknown>,
): SettingDifference[] {
  const out: SettingDifference[] = [];
  const checkVariables = Object.keys(config.env).filter(
    (name) =>
      (name.startsWith('BILLING_CHECKS_') || name.startsWith('BILLING_ANOMALIES_')) &&
      config.env[name] !== '',
  );
  for (const key of RUN_SETTING_KEYS) {
    const origin = config.settings.get(key)?.origin ?? 'default';
    const explicit = origin !== 'default' || (key === 'checks' && checkVariables.length > 0);
    if (!explicit || isDeepStrictEqual(mine[key] ?? null, theirs[key] ?? null)) continue;
    out.push({
      key,
      origin: origin === 'default' ? checkVariables.join(', ') : origin,
      mine: mine[key],
      theirs: theirs[key],
    });
  }
  return out;
}

export function describeDifferences(differences: readonly SettingDifference[]): string {
  return differences
    .map((d) => `  ${d.key}: ${shown(d.mine)} here (${d.origin}), ${shown(d.theirs)} in the daemon`)
    .join('\n');
}
