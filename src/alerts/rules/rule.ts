import type { SqlSession } from '../../warehouse/warehouse.js';
import type { AlertsConfig } from '../alert-config.js';
import type { AlertCondition, AlertRow, AlertRule } from '../alert-types.js';

/** A budget's alert thresholds (percent), as budget_threshold needs them. */
export interface BudgetThresholds {
  id: string;
  name?: string;
  thresholds: readonly number[];
}

export interface RuleContext {
  session: SqlSession;
  config: AlertsConfig;
  now: Date;
  /** Which of the tables rules read exist (a fresh warehouse has none of them). */
  tables: ReadonlySet<string>;
  /** This rule's open alerts, for conditions a rule cannot judge again from what is stored. */
  open: readonly AlertRow[];
  /** The caller's budget list; null: read API budgets' thresholds, default for the rest. */
  budgets: readonly BudgetThresholds[] | null;
  /** The caller's reporting currency, if it passed one. */
  reportingCurrency: string | null;
  /** Reads shared by rules within one evaluation (both budget rules read budget_status). */
  memo: Map<string, Promise<unknown>>;
}

export interface RuleDefinition {
  rule: AlertRule;
  /** One line for the UI's rule list. */
  description: string;
  /** Tables the rule reads; when one is missing the rule finds no conditions. */
  tables: readonly string[];
  conditions(ctx: RuleContext): Promise<AlertCondition[]>;
}

/** The period text of a budget_status row: `2026-12` for a calendar month, else `from..to`. */
export function budgetPeriod(start: string, end: string): string {
  const month = start.slice(0, 7);
  const [y = 0, m = 1] = month.split('-').map(Number);
  const last = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
  return start.endsWith('-01') && end === last ? month : `${start}..${end}`;
}

/** The period a rule without one records, so its dedupe key stays the same across evaluations. */
export const NO_PERIOD = '-';
