import { createRoute, z } from '@hono/zod-openapi';
import { type AlertsConfig, loadAlertsConfig } from '../../alerts/alert-config.js';
import { sendTestAlert } from '../../alerts/alert-service.js';
import { getAlert, listAlerts, recentAttempts } from '../../alerts/alert-store.js';
import { ALERT_RULES, type AlertRule, isAlertRule } from '../../alerts/alert-types.js';
import { effectiveRules, setRuleEnabled } from '../../alerts/rule-overrides.js';
import { SettingError } from '../../config.js';
import { alertJson, alertWithCounts, channelJson, deliveryJson, outboxJson } from '../alert-json.js';
import {
  AlertDetailSchema,
  AlertListSchema,
  AlertStateQuery,
  DeliveryJsonSchema,
  RuleJsonSchema,
  RuleSwitchSchema,
  RulesResponseSchema,
  TestAlertQuery,
  TestAlertResultSchema,
} from '../alert-schemas.js';
import { limitParam } from '../api-schema.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import { servicesOf } from '../daemon-services.js';
import { HttpError } from '../http-error.js';
import { ok } from '../run-schemas.js';

export const NO_CHANNELS_MESSAGE =
  'no alert channels are configured: configure alerts.channels in billing-pipeline.yaml (or BILLING_ALERTS_CONFIG)';

const RuleParam = z.object({
  // Any text: an unknown rule is a 404 that lists the rules, not a schema error.
  rule: z.string().openapi({ param: { name: 'rule', in: 'path' }, example: 'budget_threshold' }),
});
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });

function knownRule(rule: string): AlertRule {
  if (!isAlertRule(rule)) {
    throw new HttpError(
      404,
      'unknown_rule',
      `no alert rule "${rule}"; the rules are ${ALERT_RULES.join(', ')}`,
      {
        rules: ALERT_RULES,
      },
    );
  }
  return rule;
}

export function registerAlertRoutes(app: App, deps: AppDeps): void {
  const { warehouse, config } = deps.runtime;
  // The runtime's own settings (read when it opened) when it has them; otherwise read once here.
  const opened = deps.runtime.alerts?.config;
  let alertsConfig: Promise<AlertsConfig> | undefined = opened ? Promise.resolve(opened) : undefined;
  const loadConfig = async (): Promise<AlertsConfig> => {
    alertsConfig ??= loadAlertsConfig(config.alertsSetting, config.env);
    try {
      return await alertsConfig;
    } catch (error) {
      alertsConfig = undefined;
      if (error instanceof SettingError) throw new HttpError(409, 'invalid_alerts_config', error.message);
      throw error;
    }
  };

  // The literal paths first: /api/alerts/{id} would otherwise take "rules" and "deliveries" as ids.
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/alerts/deliveries',
      tags: ['alerts'],
      summary: 'The latest delivery attempts over all alerts, newest first',
      request: { query: z.object({ limit: limitParam(1000, 50) }) },
      responses: ok(z.object({ attempts: z.array(DeliveryJsonSchema) }), 'Attempts'),
    }),
    async (c) => {
      const { limit } = c.req.valid('query');
      return c.json({ attempts: (await recentAttempts(warehouse, limit)).map(deliveryJson) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/alerts/rules',
      tags: ['alerts'],
      summary: 'Every rule with whether it is on and what decided it (default, file, UI), and the channels',
      responses: ok(RulesResponseSchema, 'Rules and channels'),
    }),
    async (c) => {
      const alerts = await loadConfig();
      return c.json(
        { rules: await effectiveRules(warehouse, alerts), channels: alerts.channels.map(channelJson) },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/alerts/rules/{rule}',
      tags: ['alerts'],
      summary: "Switch a rule on or off (the UI's switch; it wins over the file until switched again)",
      request: {
        params: RuleParam,
        body: { content: { 'application/json': { schema: RuleSwitchSchema } }, required: true },
      },
      responses: ok(RuleJsonSchema, 'The rule as it now stands'),
    }),
    async (c) => {
      const rule = knownRule(c.req.valid('param').rule);
      const { enabled } = c.req.valid('json');
      const alerts = await loadConfig();
      await setRuleEnabled(warehouse, rule, enabled);
      const state = (await effectiveRules(warehouse, alerts)).find((r) => r.rule === rule);
      if (!state) throw new Error(`rule ${rule} missing from effectiveRules`);
      return c.json(state, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/alerts/rules/{rule}/test',
      tags: ['alerts'],
      summary:
        'Queue a test event of a rule for each channel that takes it (or one channel); delivered like any alert',
      request: { params: RuleParam, query: TestAlertQuery },
      responses: ok(TestAlertResultSchema, 'The queued event ids'),
    }),
    async (c) => {
      const rule = knownRule(c.req.valid('param').rule);
      const { channel } = c.req.valid('query');
      const alerts = await loadConfig();
      if (alerts.channels.length === 0) throw new HttpError(409, 'no_channels', NO_CHANNELS_MESSAGE);
      if (channel !== undefined && !alerts.channels.some((ch) => ch.name === channel)) {
        const names = alerts.channels.map((ch) => ch.name);
        throw new HttpError(
          404,
          'unknown_channel',
          `no alert channel "${channel}"; the channels are ${names.join(', ')}`,
          {
            channels: names,
          },
        );
      }
      // Queued only: the daemon's alert loop delivers it on its next poll, like any outbox event.
      const eventIds = await sendTestAlert(warehouse, alerts, rule, channel);
      if (eventIds.length === 0) {
        throw new HttpError(
          409,
          'no_channels',
          `no channel takes rule ${rule} (see the channels' rules: filter)`,
        );
      }
      // Inside a daemon, its alert loop sends the events now rather than at its next poll.
      servicesOf(deps).alerts?.wake();
      return c.json({ eventIds }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/alerts',
      tags: ['alerts'],
      summary: 'Alerts newest first (default: the open ones), each with its delivery counts',
      request: { query: AlertStateQuery },
      responses: ok(AlertListSchema, 'Alerts'),
    }),
    async (c) => {
      const { state } = c.req.valid('query');
      return c.json({ alerts: (await listAlerts(warehouse, state)).map(alertWithCounts) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/alerts/{id}',
      tags: ['alerts'],
      summary: 'One alert with its outbox events and every delivery attempt',
      request: { params: IdParam },
      responses: ok(AlertDetailSchema, 'The alert'),
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const detail = await getAlert(warehouse, id);
      if (!detail) throw new HttpError(404, 'not_found', `no alert "${id}"`);
      return c.json(
        {
          alert: alertJson(detail.alert),
          events: detail.events.map(outboxJson),
          attempts: detail.attempts.map(deliveryJson),
        },
        200,
      );
    },
  );
}
