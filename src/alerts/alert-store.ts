import { sqlDialect } from '../warehouse/dialect.js';
import type { Row, SqlSession, Warehouse } from '../warehouse/warehouse.js';
import * as sql from './alert-sql.js';
import type { AlertRow, AlertRule, AlertSeverity, AlertState, OutboxKind } from './alert-types.js';

/**
 * Reads of the alert tables for the API and the CLI, and their setup. Every read works on a
 * warehouse where the tables do not exist yet (nothing has been evaluated): it returns nothing.
 */

export type AlertListState = AlertState | 'all';

export interface DeliveryCounts {
  delivered: number;
  failed: number;
  pending: number;
}

export interface OutboxRow {
  event_id: string;
  alert_id: string | null;
  kind: OutboxKind;
  channel: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string | null;
  claimed_until: string | null;
  created_at: string;
  delivered_at: string | null;
  last_error: string | null;
}

export interface DeliveryRow {
  event_id: string;
  alert_id: string | null;
  channel: string;
  attempt: number;
  attempted_at: string;
  status: 'delivered' | 'failed';
  http_status: number | null;
  error: string | null;
  duration_ms: number | null;
  next_attempt_at: string | null;
}

export interface AlertDetail {
  alert: AlertRow;
  events: OutboxRow[];
  attempts: DeliveryRow[];
}

/** Creates the four alert tables (and PostgreSQL's lookup indexes) if missing. */
export async function setupAlertTables(warehouse: Warehouse): Promise<void> {
  const statements = [
    ...sql.ALERT_SCHEMA,
    ...sqlDialect(warehouse.dialect).lookupIndexes(sql.ALERT_POSTGRES_INDEXES),
  ];
  await warehouse.transaction(async (tx) => {
    // The same lock as evaluation, which creates the tables itself when they are missing.
    await tx.lock('alerts');
    for (const statement of statements) await tx.exec(statement);
  });
}

/** Which of `names` exist as tables. */
export async function presentTables(session: SqlSession, names: readonly string[]): Promise<Set<string>> {
  const rows = await session.all<{ table_name: string }>(sql.TABLES_PRESENT, [names.join(',')]);
  return new Set(rows.map((r) => r.table_name));
}

function parseDetails(value: unknown): Record<string, unknown> {
  if (typeof value !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function alertRow(row: Row): AlertRow {
  return {
    alert_id: String(row.alert_id),
    dedupe_key: String(row.dedupe_key),
    rule: String(row.rule) as AlertRule,
    scope: String(row.scope),
    period: String(row.period),
    threshold: text(row.threshold),
    severity: String(row.severity) as AlertSeverity,
    state: String(row.state) as AlertState,
    summary: String(row.summary),
    details: parseDetails(row.details),
    opened_at: String(row.opened_at),
    resolved_at: text(row.resolved_at),
    opened_run_id: text(row.opened_run_id),
    resolved_run_id: text(row.resolved_run_id),
  };
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function outboxRow(row: Row): OutboxRow {
  return {
    event_id: String(row.event_id),
    alert_id: text(row.alert_id),
    kind: String(row.kind) as OutboxKind,
    channel: String(row.channel),
    payload: String(row.payload),
    status: String(row.status) as OutboxRow['status'],
    attempts: Number(row.attempts),
    next_attempt_at: text(row.next_attempt_at),
    claimed_until: text(row.claimed_until),
    created_at: String(row.created_at),
    delivered_at: text(row.delivered_at),
    last_error: text(row.last_error),
  };
}

function deliveryRow(row: Row): DeliveryRow {
  return {
    event_id: String(row.event_id),
    alert_id: text(row.alert_id),
    channel: String(row.channel),
    attempt: Number(row.attempt),
    attempted_at: String(row.attempted_at),
    status: String(row.status) as DeliveryRow['status'],
    http_status: num(row.http_status),
    error: text(row.error),
    duration_ms: num(row.duration_ms),
    next_attempt_at: text(row.next_attempt_at),
  };
}

/** Alerts newest first, each with its outbox events counted by status. */
export async function listAlerts(
  session: SqlSession,
  state: AlertListState = 'open',
  options: { limit?: number } = {},
): Promise<(AlertRow & { deliveries: DeliveryCounts })[]> {
  const tables = await presentTables(session, ['alerts', 'alert_outbox']);
  if (!tables.has('alerts')) return [];
  const alerts = (await session.all(sql.LIST_ALERTS, [state, options.limit ?? 500])).map(alertRow);
  const counts = new Map<string, DeliveryCounts>(
    alerts.map((a) => [a.alert_id, { delivered: 0, failed: 0, pending: 0 }]),
  );
  if (alerts.length > 0 && tables.has('alert_outbox')) {
    const rows = await session.all<{ alert_id: string; status: string; n: number | string }>(
      sql.OUTBOX_COUNTS,
      [alerts.map((a) => a.alert_id).join(',')],
    );
    for (const r of rows) {
      const c = counts.get(r.alert_id);
      if (c && (r.status === 'delivered' || r.status === 'failed' || r.status === 'pending'))
        c[r.status] += Number(r.n);
    }
  }
  return alerts.map((a) => ({
    ...a,
    deliveries: counts.get(a.alert_id) ?? { delivered: 0, failed: 0, pending: 0 },
  }));
}

/** One alert with its outbox events (oldest first) and delivery attempts (newest first); null if unknown. */
export async function getAlert(session: SqlSession, alertId: string): Promise<AlertDetail | null> {
  const tables = await presentTables(session, ['alerts', 'alert_outbox', 'alert_deliveries']);
  if (!tables.has('alerts')) return null;
  const [row] = await session.all(sql.GET_ALERT, [alertId]);
  if (!row) return null;
  const events = tables.has('alert_outbox')
    ? (await session.all(sql.ALERT_EVENTS, [alertId])).map(outboxRow)
    : [];
  const attempts = tables.has('alert_deliveries')
    ? (await session.all(sql.ALERT_ATTEMPTS, [alertId])).map(deliveryRow)
    : [];
  return { alert: alertRow(row), events, attempts };
}

/** The latest delivery attempts over all alerts, newest first. */
export async function recentAttempts(session: SqlSession, limit = 50): Promise<DeliveryRow[]> {
  const tables = await presentTables(session, ['alert_deliveries']);
  if (!tables.has('alert_deliveries')) return [];
  return (await session.all(sql.RECENT_ATTEMPTS, [limit])).map(deliveryRow);
}
