import { z } from '@hono/zod-openapi';
import { ALERT_RULES } from '../alerts/alert-types.js';

/**
 * Responses of the alerts API (/api/alerts…). Imports nothing but zod and the dependency-free rule
 * list, like the other schema modules (the web UI imports their types). Instants are ISO-8601
 * UTC strings; `details` is the rule's JSON object.
 */

const RULES = ALERT_RULES;

export const AlertJsonSchema = z
  .object({
    id: z.string(),
    dedupeKey: z.string().openapi({ description: 'rule|scope|period|threshold' }),
    rule: z.enum(RULES),
    scope: z.string().openapi({ example: 'budget:platform-monthly' }),
    period: z.string().openapi({ example: '2026-12' }),
    threshold: z.string().nullable().openapi({ example: '80' }),
    severity: z.enum(['warning', 'error']),
    state: z.enum(['open', 'resolved']),
    summary: z.string(),
    details: z.record(z.string(), z.unknown()),
    openedAt: z.string(),
    resolvedAt: z.string().nullable(),
  })
  .openapi('Alert');

export const DeliveryCountsSchema = z.object({
  delivered: z.number(),
  failed: z.number(),
  pending: z.number(),
});

export const DeliveryJsonSchema = z
  .object({
    eventId: z.string(),
    alertId: z.string().nullable(),
    channel: z.string(),
    attempt: z.number(),
    attemptedAt: z.string(),
    status: z.enum(['delivered', 'failed']),
    httpStatus: z.number().nullable(),
    error: z.string().nullable(),
    durationMs: z.number().nullable(),
    nextAttemptAt: z.string().nullable(),
  })
  .openapi('AlertDelivery');

export const OutboxJsonSchema = z
  .object({
    eventId: z.string(),
    kind: z.enum(['fired', 'resolved', 'test']),
    channel: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number(),
    nextAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    lastError: z.string().nullable(),
  })
  .openapi('AlertOutboxEvent');

export const AlertListSchema = z
  .object({ alerts: z.array(AlertJsonSchema.extend({ deliveries: DeliveryCountsSchema })) })
  .openapi('AlertList');

export const AlertDetailSchema = z
  .object({
    alert: AlertJsonSchema,
    events: z.array(OutboxJsonSchema),
    attempts: z.array(DeliveryJsonSchema),
  })
  .openapi('AlertDetail');

export const RuleJsonSchema = z
  .object({
    rule: z.enum(RULES),
    enabled: z.boolean(),
    source: z.enum(['default', 'file', 'ui']).openapi({ description: 'what decided `enabled`' }),
    description: z.string(),
  })
  .openapi('AlertRuleState');

export const ChannelJsonSchema = z
  .object({
    name: z.string(),
    type: z.enum(['webhook', 'slack']),
    host: z.string().openapi({ description: 'the URL host only: the path may hold a token' }),
    signed: z.boolean(),
  })
  .openapi('AlertChannel');

export const RulesResponseSchema = z
  .object({ rules: z.array(RuleJsonSchema), channels: z.array(ChannelJsonSchema) })
  .openapi('AlertRules');

export const AlertStateQuery = z.object({ state: z.enum(['open', 'resolved', 'all']).default('open') });
export const RuleSwitchSchema = z.object({ enabled: z.boolean() }).strict().openapi('AlertRuleSwitch');
export const TestAlertQuery = z.object({
  channel: z
    .string()
    .min(1)
    .optional()
    .openapi({ description: 'one channel (default: every channel taking the rule)' }),
});
export const TestAlertResultSchema = z.object({ eventIds: z.array(z.string()) }).openapi('AlertTestResult');
