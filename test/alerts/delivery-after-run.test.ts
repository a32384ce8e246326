import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { startReceiver } from './delivery-support.js';

describe('alerts after a run without a daemon', () => {
  it('materialize decides the alert and makes one delivery attempt; the failure stays pending for a retry', async () => {
    const receiver = await startReceiver(() => 503);
    const alertsFile = path.join(await tmpDir('alert-after-run-config'), 'alerts.yaml');
    await writeFile(
      alertsFile,
      [
        'rules:',
        '  freshness: { enabled: false }',
        'channels:',
        '  - name: ops',
        '    type: webhook',
        `    url: ${receiver.url}`,
        '    rules: [run_failed]',
        '',
      ].join('\n'),
    );
    const p = await testPipeline('alert-after-run', { env: { BILLING_ALERTS_CONFIG: alertsFile } });
    // A row without a currency fails an error-severity check: the run fails.
    await p.put(
      'year=2025/month=04/day=01/a.csv',
      csv(row({ timestamp: '2025-04-01T10:00:00Z', currency: '' })),
    );
    const runtime = await p.open();
    onTestFinished(() => runtime.close());
    const summary = await runtime.materialize({ trigger: 'test' });
    expect(summary.status).toBe('failed');

    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]?.body ?? '{}')).toMatchObject({
      kind: 'fired',
      alert: { rule: 'run_failed', scope: 'trigger:test', severity: 'error' },
    });
    const w = runtime.warehouse;
    // Decided by the run itself: its run_failed alert (and the failed checks', sent to no channel).
    expect(await w.all("SELECT state, opened_run_id FROM alerts WHERE rule = 'run_failed'")).toEqual([
      { state: 'open', opened_run_id: summary.runId },
    ]);
    expect(
      await w.all(
        'SELECT attempt, status, http_status, next_attempt_at IS NOT NULL AS retry_scheduled FROM alert_deliveries',
      ),
    ).toEqual([{ attempt: 1, status: 'failed', http_status: 503, retry_scheduled: true }]);
    expect(await w.all('SELECT status, attempts, claimed_until FROM alert_outbox')).toEqual([
      { status: 'pending', attempts: 1, claimed_until: null },
    ]);
  });
});
