import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, startServe } from '../automation/daemon-support.js';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { startReceiver } from './delivery-support.js';

describe('alert delivery across kill -9 mid-request', () => {
  it('re-sends the same event after a restart (at least once; receivers dedupe on the event id)', async () => {
    // The first request never gets an answer: the daemon dies while waiting for it.
    const receiver = await startReceiver((n) => (n === 0 ? 'hang' : 200));
    const p = await testPipeline('alert-crash-mid');
    const alertsFile = path.join(p.home, 'alerts.yaml');
    await writeFile(
      alertsFile,
      [
        'rules:',
        '  freshness: { enabled: false }',
        '  spend_anomaly: { enabled: false }',
        '  check_failed: { enabled: false }',
        'channels:',
        '  - name: ops',
        '    type: webhook',
        `    url: ${receiver.url}`,
        '    rules: [run_failed]',
        // Longer than the test: only the kill ends the first request.
        'delivery: { timeout_ms: 120000 }',
        '',
      ].join('\n'),
    );
    // A row without a currency fails an error-severity check, so the run fails: run_failed fires.
    await p.put(
      'year=2025/month=04/day=01/a.csv',
      csv(row({ timestamp: '2025-04-01T10:00:00Z', currency: '' })),
    );
    const env = {
      ...p.env,
      BILLING_SOURCE: p.source,
      BILLING_HOME: path.join(p.home, 'state'),
      BILLING_ALERTS_CONFIG: alertsFile,
    };
    const first = await startServe(env);
    await first.api('POST', '/api/runs', {});
    await eventually(async () => (receiver.requests.length > 0 ? true : undefined), 'the first request');
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });

    const second = await startServe(env);
    await eventually(async () => (receiver.requests.length > 1 ? true : undefined), 'the request again');
    const [outbox] = await eventually(async () => {
      const rows = await second.sql<{ event_id: string; status: string; attempts: number }>(
        'SELECT event_id, status, attempts FROM alert_outbox',
      );
      return rows[0]?.status === 'delivered' ? rows : undefined;
    }, 'delivered');
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    const ids = receiver.requests.map((r) => r.headers['x-billing-alert-event']);
    expect(ids).toEqual([outbox?.event_id, outbox?.event_id]);
    expect(receiver.requests.map((r) => r.status)).toEqual([0, 200]);
    // The killed attempt left no record (the process died mid-request); the restart's is attempt 1.
    expect(outbox).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(await p.rows('SELECT rule, state FROM alerts')).toEqual([{ rule: 'run_failed', state: 'open' }]);
  }, 40_000);
});
