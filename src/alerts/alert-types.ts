/** The alert rules, in the order the UI and the docs list them. */
export const ALERT_RULES = [
  'budget_threshold',
  'forecast_overrun',
  'spend_anomaly',
  'check_failed',
  'freshness',
  'run_failed',
] as const;

export type AlertRule = (typeof ALERT_RULES)[number];
export type AlertSeverity = 'warning' | 'error';
export type AlertState = 'open' | 'resolved';
export type OutboxKind = 'fired' | 'resolved' | 'test';

export function isAlertRule(value: string): value is AlertRule {
  return (ALERT_RULES as readonly string[]).includes(value);
}

/** A condition a rule finds active in the stored state; it becomes an alert when first seen. */
export interface AlertCondition {
  rule: AlertRule;
  /** What the alert is about: `budget:platform-monthly`, `check:billing_events/not_null`, `trigger:schedule:daily`. */
  scope: string;
  /** `2026-12` (a month), `2026-11-20` (a day), `2026-01-01..2026-03-31`, or `-` when the rule has none. */
  period: string;
  /** The crossed threshold in percent (`80`), or null when the rule has none. */
  threshold: string | null;
  severity: AlertSeverity;
  /** One line for a person, amounts labelled with their currency. */
  summary: string;
  details: Record<string, unknown>;
}

/** A row of `alerts`, details parsed. */
export interface AlertRow {
  alert_id: string;
  dedupe_key: string;
  rule: AlertRule;
  scope: string;
  period: string;
  threshold: string | null;
  severity: AlertSeverity;
  state: AlertState;
  summary: string;
  details: Record<string, unknown>;
  opened_at: string;
  resolved_at: string | null;
  opened_run_id: string | null;
  resolved_run_id: string | null;
}

/** rule|scope|period|threshold: at most one open alert per key. */
export function dedupeKey(c: Pick<AlertCondition, 'rule' | 'scope' | 'period' | 'threshold'>): string {
  return `${c.rule}|${c.scope}|${c.period}|${c.threshold ?? ''}`;
}
