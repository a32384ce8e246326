import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { SettingError } from '../config.js';
import { ALERT_RULES, type AlertRule } from './alert-types.js';

/**
 * `alerts:` of billing-pipeline.yaml, or the YAML mapping at BILLING_ALERTS_CONFIG: rule switches,
 * channels, delivery. Anything left out keeps its default; every rule is enabled by default and
 * there are no channels (alerts are recorded, nothing is sent).
 */

const ruleSwitch = z.object({ enabled: z.boolean().default(true) }).strict();

const RulesSchema = z
  .object({
    budget_threshold: ruleSwitch.default({ enabled: true }),
    forecast_overrun: ruleSwitch.default({ enabled: true }),
    spend_anomaly: ruleSwitch.default({ enabled: true }),
    check_failed: ruleSwitch.default({ enabled: true }),
    freshness: z
      .object({ enabled: z.boolean().default(true), grace_hours: z.number().min(0).max(240).default(6) })
      .strict()
      .default({ enabled: true, grace_hours: 6 }),
    run_failed: ruleSwitch.default({ enabled: true }),
  })
  .strict();

const ChannelSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, _ . -'),
    type: z.enum(['webhook', 'slack']),
    url: z
      .string()
      .url('must be an http(s) URL')
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL'),
    secret_env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be the name of an environment variable')
      .optional(),
    rules: z.array(z.enum(ALERT_RULES)).min(1).optional(),
  })
  .strict();

const DeliverySchema = z
  .object({
    max_attempts: z.number().int().min(1).max(100).default(8),
    initial_delay_ms: z.number().int().min(0).max(86_400_000).default(1000),
    max_delay_ms: z.number().int().min(0).max(86_400_000).default(300_000),
    timeout_ms: z.number().int().min(100).max(600_000).default(10_000),
  })
  .strict()
  .refine((d) => d.max_delay_ms >= d.initial_delay_ms, {
    message: 'max_delay_ms must be at least initial_delay_ms',
    path: ['max_delay_ms'],
  });

const AlertsFileSchema = z
  .object({
    rules: RulesSchema.default(RulesSchema.parse({})),
    channels: z
      .array(ChannelSchema)
      .default([])
      .superRefine((channels, ctx) => {
        const seen = new Set<string>();
        channels.forEach((c, i) => {
          if (seen.has(c.name))
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate channel name ${c.name}` });
          seen.add(c.name);
        });
      }),
    send_resolved: z.boolean().default(true),
    delivery: DeliverySchema.default(DeliverySchema.parse({})),
  })
  .strict();

type ParsedAlerts = z.infer<typeof AlertsFileSchema>;

export type AlertChannelConfig = ParsedAlerts['channels'][number] & {
  /** The HMAC key from `secret_env`, or null when the channel is unsigned. */
  secret: string | null;
  /**
   * Set when `secret_env` names a variable this process lacks: the channel's events are not sent
   * (unsigned, a receiver that expects a signature would drop them) but fail with this message,
   * and retry. Not a start-up error: `query` or `assets` must not need a webhook's secret.
   */
  secretProblem: string | null;
};

export interface AlertsConfig {
  rules: ParsedAlerts['rules'];
  channels: AlertChannelConfig[];
  send_resolved: boolean;
  delivery: ParsedAlerts['delivery'];
  /** The rules the file names under `rules:` (effectiveRules reports their source as 'file'). */
  declared: readonly AlertRule[];
  /** Where the settings came from, for messages. */
  origin: string;
}

export const DEFAULT_ALERTS_CONFIG: AlertsConfig = withSecrets(
  AlertsFileSchema.parse({}),
  [],
  'defaults',
  {},
);

function withSecrets(
  parsed: ParsedAlerts,
  declared: readonly AlertRule[],
  origin: string,
  env: NodeJS.ProcessEnv,
): AlertsConfig {
  const channels = parsed.channels.map((c, i) => {
    if (c.secret_env === undefined) return { ...c, secret: null, secretProblem: null };
    const secret = env[c.secret_env];
    if (secret === undefined || secret === '')
      return {
        ...c,
        secret: null,
        secretProblem: `${origin}: channels.${i}.secret_env: ${c.secret_env} is not set in this process, so nothing is sent to ${c.name} unsigned; set it and restart`,
      };
    return { ...c, secret, secretProblem: null };
  });
  return { ...parsed, channels, declared, origin };
}

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function declaredRules(value: unknown): AlertRule[] {
  if (!isPlain(value) || !isPlain(value.rules)) return [];
  return ALERT_RULES.filter((r) => (value.rules as Record<string, unknown>)[r] !== undefined);
}

type Locate = (path: readonly PropertyKey[]) => string;

function validate(value: unknown, locate: Locate, env: NodeJS.ProcessEnv, origin: string): AlertsConfig {
  if (value === null || value === undefined) value = {};
  if (!isPlain(value))
    throw new SettingError(
      `${locate([])}: alerts must be a mapping with rules:, channels:, send_resolved:, delivery:`,
    );
  const result = AlertsFileSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.flatMap((i) => {
      const keys = i.code === 'unrecognized_keys' ? i.keys : [null];
      return keys.map((key) => {
        const path = key === null ? i.path : [...i.path, key];
        const name = path.map(String).join('.') || '(top level)';
        return `${locate(path)}: ${name}: ${key === null ? i.message : 'not a known setting'}`;
      });
    });
    throw new SettingError(`invalid alert settings: ${issues.join('; ')}`);
  }
  return withSecrets(result.data, declaredRules(value), origin, env);
}

/**
 * The alert settings from `config.alertsSetting` (null: the defaults). A path is read as YAML and
 * problems are named by file:line and key; inline settings are named by the config file's
 * `alerts:` line and the key path.
 */
export async function loadAlertsConfig(
  setting: { value: string | Record<string, unknown>; origin: string } | null,
  env: NodeJS.ProcessEnv,
): Promise<AlertsConfig> {
  if (setting === null) return DEFAULT_ALERTS_CONFIG;
  if (typeof setting.value !== 'string') {
    return validate(setting.value, () => setting.origin, env, `alerts: of ${setting.origin}`);
  }
  const file = setting.value;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SettingError(
      `${setting.origin}: alerts: cannot read ${file}: ${error instanceof Error ? error.message : error}`,
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const firstError = doc.errors[0];
  if (firstError) {
    const line = lineCounter.linePos(firstError.pos[0]).line;
    throw new SettingError(`${file}:${line}: not valid YAML: ${firstError.message.split('\n')[0]}`);
  }
  const lineOf = (node: { range?: readonly number[] | null } | null | undefined): number =>
    node?.range ? lineCounter.linePos(node.range[0] ?? 0).line : 1;
  const locate: Locate = (path) => {
    // The deepest node the path reaches (an unknown key's pair, or the value at the path).
    for (let n = path.length; n >= 0; n--) {
      const parentPath = path.slice(0, Math.max(0, n - 1));
      const last = path[n - 1];
      const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
      if (n === 0) return `${file}:${lineOf(doc.contents as Node | null)}`;
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last));
        if (pair) return `${file}:${lineOf((pair.key as Node | null) ?? undefined)}`;
      } else {
        const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
        if (node) return `${file}:${lineOf(node)}`;
      }
    }
    return file;
  };
  return validate(doc.toJS(), locate, env, file);
}

/** Whether `rule` goes to `channel` (its `rules:` filter; default all). */
export function channelWants(channel: AlertChannelConfig, rule: AlertRule): boolean {
  return channel.rules === undefined || channel.rules.includes(rule);
}
