import type { Command } from 'commander';
import { type AlertsConfig, loadAlertsConfig } from '../../alerts/alert-config.js';
import { ALERT_RULES, type AlertRule, isAlertRule } from '../../alerts/alert-types.js';
import type { AlertJson, DeliveryJson } from '../../server/alert-json.js';
import { type DaemonClient, DaemonError } from '../../server/daemon-client.js';
import {
  type CommonOptions,
  cliConfig,
  commonOptions,
  daemonFor,
  UsageError,
  withRuntime,
} from '../context.js';
import { jsonText, toTable } from '../format.js';

/*
 * The alerts API's client side. With a daemon running, everything goes through its API (it owns
 * the warehouse and delivers); without one, the command reads the tables itself, and `test`
 * delivers its events right here, since no one else would.
 */

type StateFilter = 'open' | 'resolved' | 'all';
const STATES: readonly StateFilter[] = ['open', 'resolved', 'all'];
type ListedAlert = AlertJson & { deliveries: { delivered: number; failed: number; pending: number } };

const NO_CHANNELS =
  'no alert channels are configured: configure alerts.channels in billing-pipeline.yaml (or BILLING_ALERTS_CONFIG)';

function parseState(value: string): StateFilter {
  const state = STATES.find((s) => s === value);
  if (!state) throw new UsageError(`--state must be one of ${STATES.join(', ')}; got "${value}"`);
  return state;
}

function parseRule(value: string): AlertRule {
  if (!isAlertRule(value))
    throw new UsageError(`no alert rule "${value}"; the rules are ${ALERT_RULES.join(', ')}`);
  return value;
}

/** The daemon's 4xx answers are the user's to fix (exit 2); the rest stay errors. */
async function viaDaemon<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof DaemonError && error.status >= 400 && error.status < 500 && error.status !== 429)
      throw new UsageError(error.message);
    throw error;
  }
}

/** Minutes are enough to tell alerts apart; the JSON has the full instant. */
const shortTime = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 16) : null);

export function alertsTable(alerts: readonly ListedAlert[]): string {
  return toTable(
    [
      'state',
      'rule',
      'scope',
      'period',
      'threshold',
      'summary',
      'opened',
      'resolved',
      'delivered',
      'failed',
      'pending',
    ],
    alerts.map((a) => [
      a.state,
      a.rule,
      a.scope,
      a.period,
      a.threshold === null ? null : `${a.threshold} %`,
      a.summary,
      shortTime(a.openedAt),
      shortTime(a.resolvedAt),
      a.deliveries.delivered,
      a.deliveries.failed,
      a.deliveries.pending,
    ]),
  );
}

async function listAlertsLocal(flags: CommonOptions, state: StateFilter): Promise<ListedAlert[]> {
  const [{ listAlerts }, { alertWithCounts }] = await Promise.all([
    import('../../alerts/alert-store.js'),
    import('../../server/alert-json.js'),
  ]);
  return withRuntime(flags, async (runtime) =>
    (await listAlerts(runtime.warehouse, state)).map(alertWithCounts),
  );
}

async function list(flags: CommonOptions, options: { state: StateFilter; json: boolean }): Promise<void> {
  const daemon = await daemonFor(flags);
  const alerts = daemon
    ? (
        await viaDaemon(() =>
          daemon.request<{ alerts: ListedAlert[] }>('GET', `/api/alerts?state=${options.state}`),
        )
      ).alerts
    : await listAlertsLocal(flags, options.state);
  if (options.json) {
    process.stdout.write(`${jsonText({ alerts })}\n`);
    return;
  }
  if (alerts.length === 0) {
    process.stdout.write(`(no ${options.state === 'all' ? '' : `${options.state} `}alerts)\n`);
    return;
  }
  process.stdout.write(`${alertsTable(alerts)}\n`);
}

/** How long `alerts test` waits for a running daemon's first attempt: its poll plus one request. */
const daemonWaitMs = (config: AlertsConfig) => config.delivery.timeout_ms + 15_000;
const POLL_MS = [100, 200, 400, 800, 1000];

async function attemptsViaDaemon(daemon: DaemonClient, eventIds: readonly string[], waitMs: number) {
  const deadline = Date.now() + waitMs;
  for (let poll = 0; ; poll++) {
    const { attempts } = await daemon.request<{ attempts: DeliveryJson[] }>(
      'GET',
      '/api/alerts/deliveries?limit=1000',
    );
    const mine = attempts.filter((a) => eventIds.includes(a.eventId));
    if (eventIds.every((id) => mine.some((a) => a.eventId === id)) || Date.now() > deadline) return mine;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS[Math.min(poll, POLL_MS.length - 1)]));
  }
}

async function testLocal(flags: CommonOptions, config: AlertsConfig, rule: AlertRule, channel?: string) {
  const [{ sendTestAlert }, { deliverDue }, { recentAttempts }, { deliveryJson }] = await Promise.all([
    import('../../alerts/alert-service.js'),
    import('../../alerts/deliver.js'),
    import('../../alerts/alert-store.js'),
    import('../../server/alert-json.js'),
  ]);
  return withRuntime(flags, async (runtime) => {
    const { setupAlertTables } = await import('../../alerts/alert-store.js');
    await setupAlertTables(runtime.warehouse);
    const eventIds = await sendTestAlert(runtime.warehouse, config, rule, channel);
    // No daemon delivers: one pass here sends the test events (and whatever else is due).
    if (eventIds.length > 0) await deliverDue(runtime.warehouse, { config });
    const attempts = (await recentAttempts(runtime.warehouse, 1000)).map(deliveryJson);
    return { eventIds, attempts: attempts.filter((a) => eventIds.includes(a.eventId)) };
  });
}

async function test(flags: CommonOptions, rule: AlertRule, channel: string | undefined): Promise<void> {
  const config = cliConfig(flags);
  const alerts = await loadAlertsConfig(config.alertsSetting, config.env);
  if (alerts.channels.length === 0) throw new UsageError(NO_CHANNELS);
  if (channel !== undefined && !alerts.channels.some((c) => c.name === channel))
    throw new UsageError(
      `no alert channel "${channel}"; the channels are ${alerts.channels.map((c) => c.name).join(', ')}`,
    );
  const daemon = await daemonFor(flags);
  let result: { eventIds: string[]; attempts: DeliveryJson[] };
  if (daemon) {
    const query = channel === undefined ? '' : `?channel=${encodeURIComponent(channel)}`;
    const { eventIds } = await viaDaemon(() =>
      daemon.request<{ eventIds: string[] }>('POST', `/api/alerts/rules/${rule}/test${query}`),
    );
    process.stderr.write(`queued ${eventIds.length} test event(s) in the daemon at ${daemon.info.url}\n`);
    result = { eventIds, attempts: await attemptsViaDaemon(daemon, eventIds, daemonWaitMs(alerts)) };
  } else {
    result = await testLocal(flags, alerts, rule, channel);
  }
  if (result.eventIds.length === 0)
    throw new UsageError(`no channel takes rule ${rule} (see the channels' rules: filter)`);
  let failed = false;
  for (const eventId of result.eventIds) {
    const attempt = result.attempts
      .filter((a) => a.eventId === eventId)
      .sort((a, b) => a.attempt - b.attempt)[0];
    if (!attempt) {
      process.stdout.write(
        `${eventId}: queued, not attempted yet (the daemon delivers it on its next pass)\n`,
      );
      continue;
    }
    const http = attempt.httpStatus === null ? '' : ` HTTP ${attempt.httpStatus}`;
    const retry = attempt.nextAttemptAt ? `, retry at ${attempt.nextAttemptAt}` : '';
    const outcome =
      attempt.status === 'delivered'
        ? `delivered${http} in ${attempt.durationMs ?? 0} ms`
        : `failed: ${attempt.error ?? (http.trim() || 'unknown error')}${retry}`;
    if (attempt.status !== 'delivered') failed = true;
    process.stdout.write(`${attempt.channel}: ${outcome} (event ${eventId})\n`);
  }
  if (failed) process.exitCode = 1;
}

export function registerAlerts(program: Command): void {
  const group = commonOptions(
    program
      .command('alerts')
      .description('Alerts: list open and resolved alerts with their deliveries, send a test alert'),
  ).addHelpText(
    'after',
    `
Rules, channels and delivery are set under alerts: in billing-pipeline.yaml (docs/budgets-alerts.md).

Examples:
  $ billing-pipeline alerts list --state all
  $ billing-pipeline alerts test budget_threshold --channel ops`,
  );

  // `alerts` alone lists the open ones, as `sensors` alone lists sensors.
  group.action(async (flags: CommonOptions) => {
    await list(flags, { state: 'open', json: false });
  });

  commonOptions(
    group
      .command('list')
      .description('List alerts (newest first) with their delivery counts')
      .option('--state <state>', 'open | resolved | all', 'open')
      .option('--json', 'the API JSON: { alerts: [...] }'),
  ).action(async (flags: CommonOptions & { state: string; json?: boolean }) => {
    await list({ ...group.opts(), ...flags }, { state: parseState(flags.state), json: flags.json === true });
  });

  commonOptions(
    group
      .command('test')
      .description(
        'Send a test event of RULE to every channel that takes it (or --channel), and print the outcome',
      )
      .argument('<rule>', ALERT_RULES.join(' | '))
      .option('--channel <name>', 'only this channel'),
  ).action(async (rule: string, flags: CommonOptions & { channel?: string }) => {
    await test({ ...group.opts(), ...flags }, parseRule(rule), flags.channel);
  });
}
