import type { AlertRule } from '../alert-types.js';
import { budgetThresholdRule, forecastOverrunRule } from './budget-rules.js';
import { checkFailedRule } from './check-failed.js';
import { freshnessRule } from './freshness.js';
import type { RuleDefinition } from './rule.js';
import { runFailedRule } from './run-failed.js';
import { spendAnomalyRule } from './spend-anomaly.js';

export function ruleDefinition(rule: AlertRule): RuleDefinition {
  switch (rule) {
    case 'budget_threshold':
      return budgetThresholdRule;
    case 'forecast_overrun':
      return forecastOverrunRule;
    case 'spend_anomaly':
      return spendAnomalyRule;
    case 'check_failed':
      return checkFailedRule;
    case 'freshness':
      return freshnessRule;
    case 'run_failed':
      return runFailedRule;
    default: {
      const unknown: never = rule;
      throw new Error(`unknown alert rule ${String(unknown)}`);
    }
  }
}
