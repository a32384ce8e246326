import type { SqlSession, Warehouse } from '../warehouse/warehouse.js';
import type { AlertsConfig } from './alert-config.js';
import * as sql from './alert-sql.js';
import { presentTables, setupAlertTables } from './alert-store.js';
import { ALERT_RULES, type AlertRule } from './alert-types.js';
import { ruleDefinition } from './rules/index.js';

/**
 * The UI switch of each rule: a row of `alert_rule_overrides` wins over `alerts.rules.<rule>.enabled`
 * in the file, which wins over the default (on). Stored in the warehouse, so every process sees it.
 */

export type RuleSource = 'default' | 'file' | 'ui';

export interface EffectiveRule {
  rule: AlertRule;
  enabled: boolean;
  source: RuleSource;
  description: string;
}

async function overrides(session: SqlSession, tables?: ReadonlySet<string>): Promise<Map<string, boolean>> {
  if (!(tables ?? (await presentTables(session, ['alert_rule_overrides']))).has('alert_rule_overrides'))
    return new Map();
  const rows = await session.all<{ rule: string; enabled: boolean }>(sql.RULE_OVERRIDES);
  return new Map(rows.map((r) => [r.rule, r.enabled]));
}

function effective(config: AlertsConfig, stored: ReadonlyMap<string, boolean>): EffectiveRule[] {
  return ALERT_RULES.map((rule) => {
    const description = ruleDefinition(rule).description;
    const ui = stored.get(rule);
    if (ui !== undefined) return { rule, enabled: ui, source: 'ui', description };
    if (config.declared.includes(rule))
      return { rule, enabled: config.rules[rule].enabled, source: 'file', description };
    return { rule, enabled: true, source: 'default', description };
  });
}

export async function effectiveRules(session: SqlSession, config: AlertsConfig): Promise<EffectiveRule[]> {
  return effective(config, await overrides(session));
}

/** The rules evaluation judges (`tables`: which tables exist, when the caller has looked). */
export async function enabledRules(
  session: SqlSession,
  config: AlertsConfig,
  tables?: ReadonlySet<string>,
): Promise<Set<AlertRule>> {
  return new Set(
    effective(config, await overrides(session, tables))
      .filter((r) => r.enabled)
      .map((r) => r.rule),
  );
}

/**
 * Switches a rule on or off from the UI (until switched again; the file's setting no longer
 * applies). Evaluation picks it up on its next pass: a disabled rule's open alerts then resolve
 * silently; a re-enabled rule fires again for conditions still active.
 */
export async function setRuleEnabled(warehouse: Warehouse, rule: AlertRule, enabled: boolean): Promise<void> {
  await setupAlertTables(warehouse);
  await warehouse.transaction(async (tx) => {
    await tx.lock('alerts');
    await tx.exec(sql.UPSERT_RULE_OVERRIDE, [rule, enabled]);
  });
}
