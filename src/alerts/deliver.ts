import { performance } from 'node:perf_hooks';
import { timestampParam } from '../orchestrator/ledger-sql.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { AlertsConfig } from './alert-config.js';
import { backoffDelay, type JitterMode } from './backoff.js';
import { claimDueSql, FINISH_ATTEMPT, INSERT_DELIVERY, NEXT_DUE } from './delivery-sql.js';
import { type ChannelType, renderBody } from './payload.js';
import { EVENT_HEADER, SIGNATURE_HEADER, signBody } from './signing.js';

/**
 * Delivers due outbox events: claim (lease) → POST → record the attempt → settle the row. The
 * outbox row was written in the transaction that decided the alert, so a crash before or during
 * the POST leaves it pending: it is sent again later (at least once; receivers dedupe on the event
 * id). Every attempt, failed or not, is a row of `alert_deliveries`.
 */

export type DeliveryFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface DeliverOptions {
  config: Pick<AlertsConfig, 'channels' | 'delivery'>;
  /** The pass's clock (default: now); attempts are stamped relative to it. */
  now?: Date;
  fetch?: DeliveryFetch;
  /** Injectable jitter for tests. */
  random?: () => number;
  jitter?: JitterMode;
  /** At most this many attempts in one pass (default 100): a pass must end so the caller can stop. */
  maxAttempts?: number;
  /** Events sent at once (default 4): one slow receiver does not hold up the others for long. */
  concurrency?: number;
  /** Ends the pass early (shutdown): in-flight requests are aborted and retried later. */
  signal?: AbortSignal;
}

export interface DeliveryReport {
  attempted: number;
  delivered: number;
  /** Failed this time, scheduled again. */
  retrying: number;
  /** Gave up: a permanent error or max_attempts reached. */
  failed: number;
  /** When the next pending event falls due (null: none pending). */
  nextDueAt: Date | null;
}

interface ClaimedRow {
  event_id: string;
  alert_id: string | null;
  kind: string;
  channel: string;
  payload: string;
  attempts: number;
}

type Outcome =
  | { kind: 'delivered'; httpStatus: number }
  | { kind: 'retry'; httpStatus: number | null; error: string; retryAfterMs: number | null }
  | { kind: 'permanent'; httpStatus: number | null; error: string };

/** Slack and most webhook receivers answer in well under a second; past the timeout a lease this long still covers the write-back. */
const LEASE_MARGIN_MS = 30_000;

export async function deliverDue(warehouse: Warehouse, options: DeliverOptions): Promise<DeliveryReport> {
  const started = performance.now();
  const base = (options.now ?? new Date()).getTime();
  const clock = () => base + Math.round(performance.now() - started);
  const report: DeliveryReport = { attempted: 0, delivered: 0, retrying: 0, failed: 0, nextDueAt: null };
  const budget = options.maxAttempts ?? 100;
  const width = Math.max(1, options.concurrency ?? 4);
  const leaseMs = options.config.delivery.timeout_ms + LEASE_MARGIN_MS;
  while (report.attempted < budget && !options.signal?.aborted) {
    // Due as of the pass's start: an event rescheduled within the pass (a short delay) waits for
    // the next pass instead of being retried in a tight loop here.
    const lease = timestampParam(clock() + leaseMs);
    const claimed = await warehouse.transaction(async (tx) => {
      await tx.lock('alert_outbox');
      return tx.all<ClaimedRow>(claimDueSql(Math.min(width, budget - report.attempted)), [
        lease,
        timestampParam(base),
      ]);
    });
    if (claimed.length === 0) break;
    const results = await Promise.all(claimed.map((row) => attempt(warehouse, row, lease, clock, options)));
    for (const result of results) {
      report.attempted++;
      report[result]++;
    }
  }
  report.nextDueAt = await nextDueAt(warehouse);
  return report;
}

export async function nextDueAt(warehouse: Warehouse): Promise<Date | null> {
  const [row] = await warehouse.all<{ due: string | null }>(NEXT_DUE);
  return row?.due ? new Date(row.due.endsWith('Z') ? row.due : `${row.due}Z`) : null;
}

async function attempt(
  warehouse: Warehouse,
  row: ClaimedRow,
  lease: string,
  clock: () => number,
  options: DeliverOptions,
): Promise<'delivered' | 'retrying' | 'failed'> {
  const { delivery } = options.config;
  const channel = options.config.channels.find((c) => c.name === row.channel);
  const attemptNo = Number(row.attempts) + 1;
  const attemptedAt = clock();
  const t0 = performance.now();
  const outcome: Outcome = !channel
    ? { kind: 'permanent', httpStatus: null, error: `channel ${row.channel} is no longer configured` }
    : channel.secretProblem
      ? // Retried: the event goes out once the variable is set and the process restarted.
        { kind: 'retry', httpStatus: null, error: channel.secretProblem, retryAfterMs: null }
      : await post(
          channel,
          row,
          new Date(attemptedAt),
          options.fetch ?? fetch,
          delivery.timeout_ms,
          options.signal,
        );
  const durationMs = Math.round(performance.now() - t0);
  const finishedAt = attemptedAt + durationMs;

  let status: 'delivered' | 'pending' | 'failed';
  let next: number | null = null;
  switch (outcome.kind) {
    case 'delivered':
      status = 'delivered';
      break;
    case 'retry':
      if (attemptNo >= delivery.max_attempts) {
        status = 'failed';
        break;
      }
      status = 'pending';
      next =
        finishedAt +
        Math.min(
          delivery.max_delay_ms,
          Math.max(
            outcome.retryAfterMs ?? 0,
            backoffDelay(attemptNo, {
              initialDelayMs: delivery.initial_delay_ms,
              maxDelayMs: delivery.max_delay_ms,
              jitter: options.jitter,
              random: options.random,
            }),
          ),
        );
      break;
    case 'permanent':
      status = 'failed';
      break;
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(unknown)}`);
    }
  }
  const error =
    outcome.kind === 'delivered'
      ? null
      : status === 'failed' && outcome.kind === 'retry'
        ? `${outcome.error} (gave up after ${attemptNo} attempts)`
        : outcome.error;

  await warehouse.transaction(async (tx) => {
    await tx.exec(INSERT_DELIVERY, [
      row.event_id,
      row.alert_id,
      row.channel,
      attemptNo,
      timestampParam(attemptedAt),
      outcome.kind === 'delivered' ? 'delivered' : 'failed',
      outcome.httpStatus,
      error,
      durationMs,
      next === null ? null : timestampParam(next),
    ]);
    await tx.exec(FINISH_ATTEMPT, [
      status,
      attemptNo,
      next === null ? null : timestampParam(next),
      status === 'delivered' ? timestampParam(finishedAt) : null,
      error,
      lease,
      row.event_id,
    ]);
  });
  return status === 'pending' ? 'retrying' : status;
}

async function post(
  channel: { type: ChannelType; url: string; secret: string | null },
  row: ClaimedRow,
  sentAt: Date,
  fetchFn: DeliveryFetch,
  timeoutMs: number,
  stop: AbortSignal | undefined,
): Promise<Outcome> {
  let body: string;
  try {
    body = renderBody(row.payload, channel.type, sentAt);
  } catch (error) {
    return { kind: 'permanent', httpStatus: null, error: `stored payload is not JSON: ${message(error)}` };
  }
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': 'billing-pipeline-alerts',
    [EVENT_HEADER]: row.event_id,
  };
  if (channel.secret) headers[SIGNATURE_HEADER] = signBody(body, channel.secret);
  let response: Response;
  try {
    response = await fetchFn(channel.url, {
      method: 'POST',
      headers,
      body,
      // A redirect would re-send the alert (and its signature) to a host nobody configured.
      redirect: 'manual',
      signal: stop ? AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]) : AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason = stop?.aborted
      ? 'interrupted: the process is stopping'
      : error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
        ? `no answer within ${timeoutMs} ms`
        : `request failed: ${networkMessage(error)}`;
    return { kind: 'retry', httpStatus: null, error: reason, retryAfterMs: null };
  }
  const text = await response.text().catch(() => '');
  const status = response.status;
  if (status >= 200 && status < 300) return { kind: 'delivered', httpStatus: status };
  const error = `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  if (status === 429 || status >= 500)
    return {
      kind: 'retry',
      httpStatus: status,
      error,
      retryAfterMs: retryAfter(response.headers.get('retry-after')),
    };
  return { kind: 'permanent', httpStatus: status, error };
}

/** Retry-After in seconds (dates are rare for webhooks and ignored). */
function retryAfter(header: string | null): number | null {
  if (!header || !/^\d+$/.test(header.trim())) return null;
  return Number(header.trim()) * 1000;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** undici reports "fetch failed" with the reason (ECONNREFUSED …) in `cause`. */
function networkMessage(error: unknown): string {
  const cause = error instanceof Error ? (error as Error & { cause?: unknown }).cause : undefined;
  return cause ? `${message(error)} (${message(cause)})` : message(error);
}
