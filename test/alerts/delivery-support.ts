import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import {
  type AlertChannelConfig,
  type AlertsConfig,
  DEFAULT_ALERTS_CONFIG,
} from '../../src/alerts/alert-config.js';
import { ALERT_SCHEMA } from '../../src/alerts/alert-sql.js';
import type { OutboxKind } from '../../src/alerts/alert-types.js';
import { webhookPayload } from '../../src/alerts/payload.js';
import { timestampParam } from '../../src/orchestrator/ledger-sql.js';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { tmpDir } from '../support/tmp.js';

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A local HTTP receiver; `answer(n)` is the status of the n-th request (0-based), or 'hang' to
 * never answer it (a sender killed mid-request).
 */
export async function startReceiver(answer: (n: number) => number | 'hang'): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answer(requests.length);
      requests.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status: status === 'hang' ? 0 : status,
      });
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : `status ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  try {
    onTestFinished(close);
  } catch {
    // Started outside a test: the caller closes it.
  }
  return { url: `http://127.0.0.1:${port}/hook`, requests, close };
}

export async function alertWarehouse(): Promise<Warehouse> {
  const dir = await tmpDir('alert-delivery');
  const warehouse = await openWarehouse({ path: path.join(dir, 'billing.duckdb') });
  onTestFinished(() => warehouse.close());
  for (const statement of ALERT_SCHEMA) await warehouse.exec(statement);
  return warehouse;
}

export function channel(overrides: Partial<AlertChannelConfig> & { url: string }): AlertChannelConfig {
  return { name: 'ops', type: 'webhook', secret: null, secretProblem: null, ...overrides };
}

export function alertsConfig(
  channels: AlertChannelConfig[],
  delivery: Partial<AlertsConfig['delivery']> = {},
): AlertsConfig {
  return {
    ...DEFAULT_ALERTS_CONFIG,
    channels,
    delivery: { max_attempts: 8, initial_delay_ms: 20, max_delay_ms: 200, timeout_ms: 2000, ...delivery },
  };
}

/** An outbox row as evaluation writes it (pending, due at `at`). */
export async function queueEvent(
  warehouse: Warehouse,
  options: { eventId: string; alertId: string; channel: string; at: number; kind?: OutboxKind },
): Promise<void> {
  const payload = webhookPayload(options.eventId, options.kind ?? 'fired', {
    id: options.alertId,
    rule: 'budget_threshold',
    scope: 'budget:platform-monthly',
    period: '2026-12',
    threshold: '80',
    severity: 'warning',
    state: 'open',
    summary: 'Budget platform-monthly passed 80 % (40,120.50 USD of 50,000.00 USD)',
    opened_at: '2026-12-03T10:00:00.000Z',
    details: { spend_to_date: '40120.500000', amount: '50000.000000', currency: 'USD' },
  });
  await warehouse.exec(
    `INSERT INTO alert_outbox (event_id, alert_id, kind, channel, payload, status, attempts, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, 'pending', 0, CAST($6 AS TIMESTAMP), CAST($6 AS TIMESTAMP))`,
    [
      options.eventId,
      options.alertId,
      options.kind ?? 'fired',
      options.channel,
      JSON.stringify(payload),
      timestampParam(options.at),
    ],
  );
}
