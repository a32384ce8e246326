import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/alerts/signing.js';
import { eventually, settled, startServe } from '../automation/daemon-support.js';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { startReceiver } from './delivery-support.js';

const SECRET = 'crash-test-secret';

describe('alert outbox across kill -9', () => {
  it('an alert decided by a daemon killed before delivering is delivered exactly once after restart', async () => {
    const receiver = await startReceiver(() => 200);
    const p = await testPipeline('alert-crash');
    const budgetsFile = path.join(p.home, 'budgets.yaml');
    await writeFile(
      budgetsFile,
      '- id: platform\n  scope: all\n  period: monthly\n  amount: 100\n  thresholds: [50]\n',
    );
    const alertsFile = path.join(p.home, 'alerts.yaml');
    await writeFile(
      alertsFile,
      [
        'rules:',
        '  freshness: { enabled: false }',
        '  forecast_overrun: { enabled: false }',
        '  spend_anomaly: { enabled: false }',
        'channels:',
        '  - name: ops',
        '    type: webhook',
        `    url: ${receiver.url}`,
        '    secret_env: ALERT_CRASH_SECRET',
        'delivery: { initial_delay_ms: 20, max_delay_ms: 200 }',
        '',
      ].join('\n'),
    );
    await p.put(
      'year=2025/month=04/day=01/a.csv',
      csv(row({ timestamp: '2025-04-01T10:00:00Z', credit_usage: '60' })),
    );
    const env = {
      ...p.env,
      BILLING_SOURCE: p.source,
      BILLING_HOME: path.join(p.home, 'state'),
      BILLING_BUDGETS_CONFIG: budgetsFile,
      BILLING_ALERTS_CONFIG: alertsFile,
      ALERT_CRASH_SECRET: SECRET,
    };

    const first = await startServe({ ...env, BILLING_TEST_ALERT_HOLD_DELIVERY: '1' });
    await first.api('POST', '/api/runs', {});
    expect((await settled(first)).map((r) => r.status)).toEqual(['success']);
    // Decided with the budget_status rows, in their transaction: the event is there, unsent.
    const [queued] = await eventually(async () => {
      const rows = await first.sql<{ event_id: string; status: string; attempts: number }>(
        'SELECT event_id, status, attempts FROM alert_outbox',
      );
      return rows.length > 0 ? rows : undefined;
    }, 'the outbox row');
    expect(queued).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await first.sql('SELECT * FROM alert_deliveries')).toEqual([]);
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(receiver.requests).toHaveLength(0);

    const second = await startServe(env);
    await eventually(async () => (receiver.requests.length > 0 ? true : undefined), 'the alert to arrive');
    const delivered = await eventually(async () => {
      const [rowAfter] = await second.sql<{ status: string; attempts: number }>(
        'SELECT status, attempts FROM alert_outbox',
      );
      return rowAfter?.status === 'delivered' ? rowAfter : undefined;
    }, 'the outbox row to be marked delivered');
    expect(delivered).toEqual({ status: 'delivered', attempts: 1 });

    // Another run and its evaluation afterwards: the open alert is not decided again, nothing re-sent.
    await second.api('POST', '/api/runs', {});
    await settled(second);
    await second.waitFor(/run \S+ success/);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request?.headers['x-billing-alert-event']).toBe(queued?.event_id);
    expect(
      verifySignature(request?.body ?? '', SECRET, request?.headers['x-billing-signature'] as string),
    ).toBe(true);
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({
      event_id: queued?.event_id,
      kind: 'fired',
      alert: { rule: 'budget_threshold', scope: 'budget:platform', threshold: '50', state: 'open' },
    });
    expect(await p.rows('SELECT rule, threshold, state FROM alerts')).toEqual([
      { rule: 'budget_threshold', threshold: '50', state: 'open' },
    ]);
    expect(await p.rows('SELECT attempt, status, http_status FROM alert_deliveries')).toEqual([
      { attempt: 1, status: 'delivered', http_status: 200 },
    ]);
  }, 40_000);
});
