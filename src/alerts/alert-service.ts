import { randomUUID } from 'node:crypto';
import { timestampParam } from '../orchestrator/ledger-sql.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { type AlertWiring, evaluateAfterRun } from './after-run.js';
import { type AlertsConfig, channelWants } from './alert-config.js';
import { setupAlertTables } from './alert-store.js';
import type { AlertRule } from './alert-types.js';
import { type DeliveryFetch, type DeliveryReport, deliverDue, nextDueAt } from './deliver.js';
import { INSERT_TEST_EVENT, RELEASE_ALL_CLAIMS } from './delivery-sql.js';
import type { EvaluateResult } from './evaluate.js';
import { webhookPayload } from './payload.js';

/**
 * The daemon's alert loop: evaluates after every finished run and every ~45 s (freshness needs a
 * clock, not a run; at start it catches up on whatever happened while nothing was running), and
 * delivers due outbox events, woken after an evaluation and otherwise polling briefly (events
 * queued by other processes: the API's test alerts, scale-out workers). One thing at a time: an
 * evaluation and a delivery pass never overlap in this process.
 */

export interface AlertServiceOptions {
  warehouse: Warehouse;
  wiring: AlertWiring;
  log: (line: string) => void;
  /** Embedded mode: this process is the only one, so leases left by a killed one are void at start. */
  releaseClaimsAtStart?: boolean;
  /** Tests only (BILLING_TEST_ALERT_HOLD_DELIVERY): decide and queue, never send. */
  holdDelivery?: boolean;
  evaluateEveryMs?: number;
  pollMs?: number;
  fetch?: DeliveryFetch;
  now?: () => Date;
}

const MIN_WAIT_MS = 50;

export function describeEvaluation(result: EvaluateResult): string | null {
  if (result.fired.length === 0 && result.resolved.length === 0) return null;
  const names = [
    ...result.fired.map((a) => `+${a.dedupe_key}`),
    ...result.resolved.map((a) => `-${a.dedupe_key}`),
  ];
  return `alerts: ${result.fired.length} fired, ${result.resolved.length} resolved (${names.join(', ')})`;
}

export function describeDelivery(report: DeliveryReport): string | null {
  if (report.attempted === 0) return null;
  return `alert delivery: ${report.delivered} delivered, ${report.retrying} to retry, ${report.failed} failed`;
}

export class AlertService {
  private readonly evaluateEveryMs: number;
  private readonly pollMs: number;
  private readonly now: () => Date;
  private stopped = false;
  private ready = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The latest finished run not yet judged, recorded on the alerts it opens or resolves. */
  private pendingRun: string | null = null;
  private evaluateRequested = true;
  private nextEvaluation = 0;
  private readonly controller = new AbortController();

  constructor(private readonly options: AlertServiceOptions) {
    this.evaluateEveryMs = options.evaluateEveryMs ?? 45_000;
    this.pollMs = options.pollMs ?? 2_000;
    this.now = options.now ?? (() => new Date());
  }

  /** Starts the loop; its first step creates the tables and catches up. Never throws: errors are logged and retried. */
  async start(): Promise<void> {
    if (this.options.holdDelivery)
      this.options.log('alert delivery is held (BILLING_TEST_ALERT_HOLD_DELIVERY)');
    for (const channel of this.options.wiring.config.channels)
      if (channel.secretProblem) this.options.log(`warning: ${channel.secretProblem}`);
    this.loop = this.run();
  }

  /** A run finished: judge it (coalesced with any evaluation already waiting). */
  runFinished(runId: string): void {
    this.pendingRun = runId;
    this.evaluateRequested = true;
    this.wake();
  }

  /** Something was queued (a test alert): deliver now instead of at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // In-flight requests end now and count as a failed attempt to retry: shutdown must not wait out timeouts.
    this.controller.abort();
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.step();
      } catch (error) {
        if (this.stopped) break;
        this.options.log(`alerts: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (this.stopped) break;
      await this.sleep(await this.untilNext());
    }
  }

  private async step(): Promise<void> {
    const { warehouse, wiring, log } = this.options;
    if (!this.ready) {
      await setupAlertTables(warehouse);
      if (this.options.releaseClaimsAtStart) await warehouse.exec(RELEASE_ALL_CLAIMS);
      this.ready = true;
    }
    const now = this.now();
    if (this.evaluateRequested || now.getTime() >= this.nextEvaluation) {
      const runId = this.pendingRun;
      this.evaluateRequested = false;
      this.pendingRun = null;
      this.nextEvaluation = now.getTime() + this.evaluateEveryMs;
      const result = await evaluateAfterRun(warehouse, { ...wiring, now: () => now }, runId);
      const line = describeEvaluation(result);
      if (line) log(runId ? `${line} after run ${runId}` : line);
    }
    if (this.options.holdDelivery || this.stopped) return;
    const report = await deliverDue(warehouse, {
      config: wiring.config,
      now: this.now(),
      fetch: this.options.fetch,
      signal: this.controller.signal,
    });
    const line = describeDelivery(report);
    if (line) log(line);
  }

  private async untilNext(): Promise<number> {
    if (this.evaluateRequested) return 0;
    const now = this.now().getTime();
    let wait = Math.min(this.pollMs, Math.max(0, this.nextEvaluation - now));
    if (!this.options.holdDelivery) {
      const due = await nextDueAt(this.options.warehouse).catch(() => null);
      if (due) wait = Math.min(wait, due.getTime() - now);
    }
    // Never a tight loop: an event due now that the last pass could not claim (another process holds it) waits a little.
    return Math.max(MIN_WAIT_MS, wait);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.wakeUp = null;
        resolve();
      };
      this.wakeUp = done;
      this.timer = setTimeout(done, ms);
    });
  }
}

/**
 * Queues one 'test' event per channel that takes `rule` (or just `channel`), delivered by the
 * normal path: the daemon's next poll, or a `deliverDue` pass by the caller. Returns the event ids
 * (none when no channel takes the rule).
 */
export async function sendTestAlert(
  warehouse: Warehouse,
  config: Pick<AlertsConfig, 'channels'>,
  rule: AlertRule,
  channel?: string,
  now: Date = new Date(),
): Promise<string[]> {
  const targets = channel
    ? config.channels.filter((c) => c.name === channel)
    : config.channels.filter((c) => channelWants(c, rule));
  if (channel && targets.length === 0)
    throw new Error(
      `no alert channel named ${channel} (configured: ${config.channels.map((c) => c.name).join(', ') || 'none'})`,
    );
  const at = timestampParam(now.getTime());
  const ids: string[] = [];
  await warehouse.transaction(async (tx) => {
    for (const target of targets) {
      const eventId = randomUUID();
      const payload = webhookPayload(eventId, 'test', {
        id: `test-${eventId}`,
        rule,
        scope: 'test',
        period: '-',
        threshold: null,
        severity: 'warning',
        state: 'open',
        summary: `Test alert for rule ${rule} to channel ${target.name}: delivery works`,
        opened_at: now.toISOString(),
        details: { test: true },
      });
      await tx.exec(INSERT_TEST_EVENT, [eventId, target.name, JSON.stringify(payload), at]);
      ids.push(eventId);
    }
  });
  return ids;
}
