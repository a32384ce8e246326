/**
 * What a channel receives. The webhook form is the contract's JSON event; the Slack form
 * (`{ text, blocks }`) is what Slack incoming webhooks, Mattermost and most chat relays accept.
 *
 * The outbox row stores the event as decided (`sent_at` absent); delivery renders the body for the
 * channel's type at send time, stamping `sent_at`. Every attempt of one event carries the same
 * `event_id` (also in the X-Billing-Alert-Event header), which is what receivers dedupe on.
 */

import type { AlertRow, OutboxKind } from './alert-types.js';

export type ChannelType = 'webhook' | 'slack';

/** The alert as the payload shows it (the `alerts` row, with details parsed). */
export interface PayloadAlert {
  id: string;
  rule: string;
  scope: string;
  period: string;
  threshold: string | null;
  severity: 'warning' | 'error';
  state: 'open' | 'resolved';
  summary: string;
  opened_at: string;
  resolved_at?: string | null;
  details: Record<string, unknown>;
}

export interface WebhookPayload {
  event_id: string;
  kind: OutboxKind;
  alert: PayloadAlert;
  sent_at?: string;
}

export interface SlackPayload {
  text: string;
  blocks: unknown[];
}

export function webhookPayload(eventId: string, kind: OutboxKind, alert: PayloadAlert): WebhookPayload {
  return { event_id: eventId, kind, alert };
}

/** The stored outbox payload for an `alerts` row: the webhook event without `sent_at`. */
export function outboxPayload(eventId: string, kind: OutboxKind, row: AlertRow): string {
  return JSON.stringify(
    webhookPayload(eventId, kind, {
      id: row.alert_id,
      rule: row.rule,
      scope: row.scope,
      period: row.period,
      threshold: row.threshold,
      severity: row.severity,
      state: row.state,
      summary: row.summary,
      opened_at: row.opened_at,
      resolved_at: row.resolved_at,
      details: row.details,
    }),
  );
}

const KIND_LABEL: Record<OutboxKind, string> = { fired: 'FIRED', resolved: 'RESOLVED', test: 'TEST' };

/** One line a person reads in a notification; the summary already labels amounts with their currency. */
export function headline(event: WebhookPayload): string {
  const severity = event.kind === 'fired' ? ` ${event.alert.severity}` : '';
  return `[${KIND_LABEL[event.kind]}${severity}] ${event.alert.summary}`;
}

export function slackPayload(event: WebhookPayload): SlackPayload {
  const a = event.alert;
  const fields = [
    ['Rule', a.rule],
    ['Scope', a.scope],
    ['Period', a.period],
    ['Threshold', a.threshold === null ? null : `${a.threshold} %`],
    ['Severity', a.severity],
    ['State', a.state],
  ].filter((f): f is [string, string] => f[1] !== null);
  return {
    text: headline(event),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(headline(event))}*` } },
      {
        type: 'section',
        fields: fields.map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${escapeMrkdwn(v)}` })),
      },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `alert ${a.id} · event ${event.event_id} · opened ${a.opened_at}` },
        ],
      },
    ],
  };
}

/** Slack treats &, < and > as control characters in mrkdwn. */
function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function isWebhookPayload(value: unknown): value is WebhookPayload {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.event_id === 'string' && typeof v.alert === 'object' && v.alert !== null;
}

/**
 * The exact body to POST for a stored outbox payload. A payload already in Slack form (it has
 * `blocks`) is sent as stored; a webhook event is stamped with `sent_at`, or rendered as Slack.
 */
export function renderBody(stored: string, type: ChannelType, sentAt: Date): string {
  const parsed: unknown = JSON.parse(stored);
  if (!isWebhookPayload(parsed)) return stored;
  switch (type) {
    case 'webhook':
      return JSON.stringify({ ...parsed, sent_at: sentAt.toISOString() });
    case 'slack':
      return JSON.stringify(slackPayload(parsed));
    default: {
      const unknown: never = type;
      throw new Error(`unknown channel type ${String(unknown)}`);
    }
  }
}
