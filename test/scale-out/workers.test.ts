import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startReceiver } from '../alerts/delivery-support.js';
import { tmpDir } from '../support/tmp.js';
import {
  cli,
  cluster,
  expectSameAsEmbedded,
  postgresPerFile,
  runStatus,
  startProcess,
  startWorkers,
} from './support.js';

const pg = postgresPerFile();

describe.skipIf(!pg.available)('scale-out workers on PostgreSQL', () => {
  it('three workers running a 30-day backfill build the same tables as one embedded run', async () => {
    const c = await cluster(pg.server(), 'bf30', {
      from: '2025-03-01',
      to: '2025-03-30',
      rowsPerDay: 150,
      filesPerDay: 2,
      dirtyRate: 0.02,
    });
    // Three coordinators judging runs at once, each making a delivery pass: every threshold of the
    // budget reaches the receiver exactly once (the alerts lock and the outbox leases).
    const receiver = await startReceiver(() => 200);
    onTestFinished(() => receiver.close());
    const dir = await tmpDir('bf30-alerts');
    await writeFile(
      path.join(dir, 'budgets.yaml'),
      '- { id: march, amount: 100, thresholds: [50, 80, 100] }\n',
    );
    await writeFile(
      path.join(dir, 'alerts.yaml'),
      `rules: { freshness: { enabled: false }, spend_anomaly: { enabled: false } }\nchannels:\n  - { name: ops, type: webhook, url: "${receiver.url}", rules: [budget_threshold] }\n`,
    );
    const env = {
      ...c.env,
      BILLING_BUDGETS_CONFIG: path.join(dir, 'budgets.yaml'),
      BILLING_ALERTS_CONFIG: path.join(dir, 'alerts.yaml'),
    };
    const workers = await startWorkers(env, 3);
    const backfill = await cli(env, 'backfill', '--from', '2025-03-01', '--to', '2025-03-30');
    expect(backfill.stderr + backfill.stdout).toMatch(
      /backfill \S+ success: 30 partition\(s\), 30 succeeded/,
    );
    expect(backfill.code).toBe(0);
    // The work was spread: every worker ran tasks.
    for (const w of workers) expect(w.output()).toMatch(/task files?:\S+ of billing_events done/);
    await Promise.all(workers.map((w) => w.stop()));
    const thresholds = receiver.requests.map((r) => {
      const event = JSON.parse(r.body) as { event_id: string; alert: { rule: string; threshold: string } };
      return `${event.alert.rule} ${event.alert.threshold}`;
    });
    expect(thresholds.sort()).toEqual(['budget_threshold 100', 'budget_threshold 50', 'budget_threshold 80']);
    expect(new Set(receiver.requests.map((r) => r.headers['x-billing-alert-event'])).size).toBe(3);

    const scaled = await expectSameAsEmbedded(c);
    expect(scaled.events_per_file).toHaveLength(60);
    // `query` reads PostgreSQL with the same JSON contract.
    const counted = await cli(c.env, 'query', 'SELECT count(*) AS n FROM billing_events', '--format', 'json');
    expect(counted.code, counted.stderr).toBe(0);
    const events = (scaled.events_per_file ?? []).reduce((n, f) => n + Number(f.events), 0);
    expect(JSON.parse(counted.stdout)).toEqual([{ n: events }]);
  }, 600_000);

  it('a worker killed mid-ingest: its task is retried by another worker, nothing lost or doubled', async () => {
    const c = await cluster(pg.server(), 'kill9', {
      from: '2025-03-01',
      to: '2025-03-03',
      rowsPerDay: 40_000,
    });
    // Short timeouts so the lost jobs come back within the test.
    const env = { ...c.env, BILLING_TASK_TIMEOUT: '3', BILLING_RUN_TIMEOUT: '6' };
    const [victim] = await startWorkers(env, 1);
    const queued = await cli(env, 'materialize', '--no-wait');
    const runId = queued.stdout.match(/run (\S+) queued/)?.[1];
    expect(runId, queued.stdout + queued.stderr).toBeTruthy();
    await victim?.waitFor(/task files?:\S+ of billing_events started/);
    await victim?.stop('SIGKILL');
    const [rescuer] = await startWorkers(env, 1);
    expect(await runStatus(c.databaseUrl, runId ?? '', 180_000)).toBe('success');
    expect(rescuer?.output()).toMatch(/task files?:\S+ of billing_events done/);
    await rescuer?.stop();

    await expectSameAsEmbedded(c);
  }, 600_000);

  it('two serve instances: a schedule tick makes one run, evaluated by one leader', async () => {
    const c = await cluster(pg.server(), 'twoserve', {
      from: '2025-03-01',
      to: '2025-03-01',
      rowsPerDay: 10,
    });
    const env = { ...c.env, BILLING_DAILY_SCHEDULE_CRON: '*/2 * * * * *' };
    const enabled = await cli(env, 'schedules', 'start', 'daily_billing');
    expect(enabled.code, enabled.stderr).toBe(0);
    const a = startProcess(env, 'serve', '--port', '0');
    const b = startProcess(env, 'serve', '--port', '0');
    const urls = await Promise.all(
      [a, b].map(async (p) => (await p.waitFor(/listening on (http:\/\/\S+)/))[1]),
    );
    await Promise.race([a.waitFor(/automation leader/), b.waitFor(/automation leader/)]);
    // Several ticks' worth of time.
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    // Both serve; each reports the cluster's queue: the scheduled run waits (no workers here).
    for (const url of urls) {
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^billing_runs_queued 1$/m);
      expect(metrics).toMatch(/^billing_queue_tasks\{state="waiting"\} 0$/m);
    }
    await Promise.all([a.stop(), b.stop()]);
    const leaders = [a, b].filter((p) => /automation leader/.test(p.output()));
    expect(leaders).toHaveLength(1);

    const { openWarehouse } = await import('../../src/warehouse/create-warehouse.js');
    const w = await openWarehouse({ databaseUrl: c.databaseUrl, path: '' });
    try {
      const ticks = await w.all<{ started_at: string }>(
        "SELECT started_at FROM automation_ticks WHERE name = 'daily_billing' ORDER BY started_at",
      );
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      const runs = await w.all<{ run_key: string }>(
        "SELECT run_key FROM runs WHERE trigger = 'schedule:daily_billing'",
      );
      // Every tick asks for the previous day under one run key: exactly one run, however many instances.
      expect(runs).toHaveLength(1);
      // Ticks two seconds apart, never the same tick from both instances.
      for (let i = 1; i < ticks.length; i++) {
        const gap = Date.parse(`${ticks[i]?.started_at}`) - Date.parse(`${ticks[i - 1]?.started_at}`);
        expect(gap).toBeGreaterThan(1_000);
      }
    } finally {
      await w.close();
    }
  }, 180_000);
});
