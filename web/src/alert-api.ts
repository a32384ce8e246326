/** The alerts routes as the UI reads them (issue 14 contract). */

import type { z } from '@hono/zod-openapi';
import type {
  AlertDetailSchema,
  AlertJsonSchema,
  AlertListSchema,
  ChannelJsonSchema,
  DeliveryCountsSchema,
  DeliveryJsonSchema,
  OutboxJsonSchema,
  RuleJsonSchema,
  RulesResponseSchema,
  TestAlertResultSchema,
} from '../../src/server/alert-schemas.js';
import { api } from './api.js';

// The server's own shapes (type-only: no server code reaches the bundle), so a renamed field
// fails the UI's type check.
export type AlertJson = z.infer<typeof AlertJsonSchema>;
export type AlertRule = AlertJson['rule'];
export type AlertStateFilter = 'open' | 'resolved' | 'all';
export type DeliveryCounts = z.infer<typeof DeliveryCountsSchema>;
export type DeliveryJson = z.infer<typeof DeliveryJsonSchema>;
export type OutboxJson = z.infer<typeof OutboxJsonSchema>;
export type AlertList = z.infer<typeof AlertListSchema>;
export type AlertDetail = z.infer<typeof AlertDetailSchema>;
export type RuleJson = z.infer<typeof RuleJsonSchema>;
export type ChannelJson = z.infer<typeof ChannelJsonSchema>;
export type AlertRules = z.infer<typeof RulesResponseSchema>;
type TestResult = z.infer<typeof TestAlertResultSchema>;

const rulePath = (rule: AlertRule) => `/api/alerts/rules/${encodeURIComponent(rule)}`;

export function setRuleEnabled(rule: AlertRule, enabled: boolean): Promise<RuleJson> {
  return api<RuleJson>(rulePath(rule), { method: 'PUT', body: { enabled } });
}

export function sendTest(rule: AlertRule): Promise<TestResult> {
  return api<TestResult>(`${rulePath(rule)}/test`, { method: 'POST' });
}

export function ruleLabel(rule: AlertRule): string {
  switch (rule) {
    case 'budget_threshold':
      return 'Budget threshold crossed';
    case 'forecast_overrun':
      return 'Forecast overrun';
    case 'spend_anomaly':
      return 'Spend anomaly';
    case 'check_failed':
      return 'Error check failed';
    case 'freshness':
      return 'Freshness breach';
    case 'run_failed':
      return 'Run failed';
  }
}
