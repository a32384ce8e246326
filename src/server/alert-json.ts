import type { z } from '@hono/zod-openapi';
import type { AlertChannelConfig } from '../alerts/alert-config.js';
import type { DeliveryCounts, DeliveryRow, OutboxRow } from '../alerts/alert-store.js';
import type { AlertRow } from '../alerts/alert-types.js';
import type {
  AlertJsonSchema,
  ChannelJsonSchema,
  DeliveryJsonSchema,
  OutboxJsonSchema,
} from './alert-schemas.js';

/** The alert tables' rows as the API (and `alerts list --json`) shows them: camelCase, no internals. */

export type AlertJson = z.infer<typeof AlertJsonSchema>;
export type DeliveryJson = z.infer<typeof DeliveryJsonSchema>;
export type OutboxJson = z.infer<typeof OutboxJsonSchema>;
export type ChannelJson = z.infer<typeof ChannelJsonSchema>;

export function alertJson(a: AlertRow): AlertJson {
  return {
    id: a.alert_id,
    dedupeKey: a.dedupe_key,
    rule: a.rule,
    scope: a.scope,
    period: a.period,
    threshold: a.threshold,
    severity: a.severity,
    state: a.state,
    summary: a.summary,
    details: a.details,
    openedAt: a.opened_at,
    resolvedAt: a.resolved_at,
  };
}

export const alertWithCounts = (a: AlertRow & { deliveries: DeliveryCounts }) => ({
  ...alertJson(a),
  deliveries: a.deliveries,
});

export function deliveryJson(d: DeliveryRow): DeliveryJson {
  return {
    eventId: d.event_id,
    alertId: d.alert_id,
    channel: d.channel,
    attempt: d.attempt,
    attemptedAt: d.attempted_at,
    status: d.status,
    httpStatus: d.http_status,
    error: d.error,
    durationMs: d.duration_ms,
    nextAttemptAt: d.next_attempt_at,
  };
}

export function outboxJson(o: OutboxRow): OutboxJson {
  return {
    eventId: o.event_id,
    kind: o.kind,
    channel: o.channel,
    status: o.status,
    attempts: o.attempts,
    nextAttemptAt: o.next_attempt_at,
    deliveredAt: o.delivered_at,
    lastError: o.last_error,
  };
}

/** A channel without its URL's path and query (they often carry the receiver's token) or secret. */
export function channelJson(c: AlertChannelConfig): ChannelJson {
  let host: string;
  try {
    host = new URL(c.url).host;
  } catch {
    host = '(invalid URL)';
  }
  return { name: c.name, type: c.type, host, signed: c.secret !== null };
}
