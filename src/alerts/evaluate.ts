import { randomUUID } from 'node:crypto';
import { timestampParam } from '../orchestrator/ledger-sql.js';
import { insertMany, type SqlSession, type SqlValue } from '../warehouse/warehouse.js';
import { type AlertsConfig, channelWants } from './alert-config.js';
import * as sql from './alert-sql.js';
import { alertRow, presentTables } from './alert-store.js';
import {
  ALERT_RULES,
  type AlertCondition,
  type AlertRow,
  type AlertRule,
  dedupeKey,
  type OutboxKind,
} from './alert-types.js';
import { outboxPayload } from './payload.js';
import { enabledRules } from './rule-overrides.js';
import { ruleDefinition } from './rules/index.js';
import type { BudgetThresholds } from './rules/rule.js';

export interface EvaluateOptions {
  config: AlertsConfig;
  now: Date;
  /** The run whose state change is being judged, recorded on the alerts it opens or resolves. */
  runId?: string | null;
  /** Judge only these rules (e.g. after a run only the ones its assets feed); default all. */
  rules?: readonly AlertRule[];
  /** The budgets (file and API) with their thresholds; default: API budgets, [50, 80, 100] for others. */
  budgets?: readonly BudgetThresholds[];
  /** Without `budgets`: reads them, given the tables evaluation found (one catalog lookup a pass). */
  budgetsFrom?: (tables: ReadonlySet<string>) => Promise<readonly BudgetThresholds[]>;
  /** Labels spend-anomaly amounts; default billing_insights' reporting currency. */
  reportingCurrency?: string;
}

export interface EvaluateResult {
  fired: AlertRow[];
  resolved: AlertRow[];
}

/** Every table a rule, the budget list or the rule switches may read, looked up once per evaluation. */
const INPUT_TABLES = [
  'alerts',
  'alert_rule_overrides',
  'budget_status',
  'budgets',
  'insights_spend_anomalies',
  'daily_aggregates',
  'billing_insights',
  'check_results',
  'check_failures',
  'billing_files',
  'runs',
];

/**
 * Decides alerts from the stored state: each enabled rule's active conditions, diffed with the open
 * alerts. A new condition opens an alert and queues one outbox event per channel that wants its
 * rule; an open alert whose condition is gone resolves (queuing 'resolved' events when
 * send_resolved). A condition that stays active changes nothing, so calling it again is a no-op.
 * A disabled rule's open alerts resolve without notifications: someone switched the rule off, and
 * nothing recovered. Runs in the caller's transaction, so the alerts commit with the state that
 * triggered them (the outbox), and delivery happens afterwards.
 */
export async function evaluateAlerts(session: SqlSession, options: EvaluateOptions): Promise<EvaluateResult> {
  // Two processes (PostgreSQL) must not both open the alert for one key.
  await session.lock('alerts');
  let tables = await presentTables(session, INPUT_TABLES);
  if (!tables.has('alerts') || !tables.has('alert_rule_overrides')) {
    for (const statement of sql.ALERT_SCHEMA) await session.exec(statement);
    tables = new Set([...tables, 'alerts', 'alert_outbox', 'alert_deliveries', 'alert_rule_overrides']);
  }
  const nowText = timestampParam(options.now.getTime());
  const runId = options.runId ?? null;
  const selected = options.rules ?? ALERT_RULES;
  const enabled = await enabledRules(session, options.config, tables);
  const budgets = options.budgets ?? (options.budgetsFrom ? await options.budgetsFrom(tables) : null);
  const open = (await session.all(sql.OPEN_ALERTS)).map(alertRow);
  const fired: AlertRow[] = [];
  const resolved: AlertRow[] = [];
  const events: SqlValue[][] = [];
  const memo = new Map<string, Promise<unknown>>();
  const queue = (row: AlertRow, kind: OutboxKind) => {
    for (const channel of options.config.channels) {
      if (!channelWants(channel, row.rule)) continue;
      const eventId = randomUUID();
      events.push([eventId, row.alert_id, kind, channel.name, outboxPayload(eventId, kind, row), nowText]);
    }
  };
  const resolve = async (alert: AlertRow, resolution: string, notify: boolean) => {
    const details = { ...alert.details, resolution };
    await session.exec(sql.RESOLVE_ALERT, [alert.alert_id, nowText, runId, JSON.stringify(details)]);
    const row: AlertRow = {
      ...alert,
      state: 'resolved',
      resolved_at: options.now.toISOString(),
      resolved_run_id: runId,
      details,
    };
    resolved.push(row);
    if (notify && options.config.send_resolved) queue(row, 'resolved');
  };

  for (const rule of selected) {
    const openOfRule = open.filter((a) => a.rule === rule);
    if (!enabled.has(rule)) {
      for (const alert of openOfRule) await resolve(alert, 'rule disabled', false);
      continue;
    }
    const definition = ruleDefinition(rule);
    const conditions = definition.tables.every((t) => tables.has(t))
      ? await definition.conditions({
          session,
          config: options.config,
          now: options.now,
          tables,
          open: openOfRule,
          budgets,
          reportingCurrency: options.reportingCurrency ?? null,
          memo,
        })
      : [];
    const active = new Map<string, AlertCondition>();
    for (const c of conditions) active.set(dedupeKey(c), c);
    const openKeys = new Set(openOfRule.map((a) => a.dedupe_key));
    for (const alert of openOfRule) {
      if (!active.has(alert.dedupe_key)) await resolve(alert, 'condition cleared', true);
    }
    for (const [key, c] of active) {
      if (openKeys.has(key)) continue;
      const row: AlertRow = {
        alert_id: randomUUID(),
        dedupe_key: key,
        rule: c.rule,
        scope: c.scope,
        period: c.period,
        threshold: c.threshold,
        severity: c.severity,
        state: 'open',
        summary: c.summary,
        details: c.details,
        opened_at: options.now.toISOString(),
        resolved_at: null,
        opened_run_id: runId,
        resolved_run_id: null,
      };
      await session.exec(sql.INSERT_ALERT, [
        row.alert_id,
        key,
        row.rule,
        row.scope,
        row.period,
        row.threshold,
        row.severity,
        row.summary,
        JSON.stringify(row.details),
        nowText,
        runId,
      ]);
      fired.push(row);
      queue(row, 'fired');
    }
  }
  if (events.length > 0) await insertMany(session, sql.INSERT_OUTBOX, sql.OUTBOX_VALUES, events);
  return { fired, resolved };
}
