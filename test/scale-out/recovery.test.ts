import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
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

/** What the worker's /metrics says for one metric line, as a number (0 when absent). */
function metric(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

describe.skipIf(!pg.available)('scale-out recovery on PostgreSQL', () => {
  it('cancels a running run through its job; the next run finishes the work; the worker reports it all on /metrics', async () => {
    const c = await cluster(pg.server(), 'cancel', {
      from: '2025-03-01',
      to: '2025-03-04',
      rowsPerDay: 30_000,
    });
    // A task per file, so the cancel lands while files are still queued and the next run has work.
    c.env.BILLING_TEST_TASK_BATCH_FILES = '1';
    const worker = startProcess(c.env, 'worker', '--concurrency', '1', '--port', '0');
    const url = (await worker.waitFor(/worker metrics and probes on (http:\/\/\S+)/))[1] ?? '';
    await worker.waitFor(/worker started/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    const queued = await cli(c.env, 'materialize', '--no-wait');
    const runId = queued.stdout.match(/run (\S+) queued/)?.[1] ?? '';
    expect(runId, queued.stdout + queued.stderr).not.toBe('');
    await worker.waitFor(/task files?:\S+ of billing_events started/);
    // The flag instead of the environment variable.
    const flagOnly = { ...c.env, BILLING_DATABASE_URL: '' };
    const canceled = await cli(flagOnly, 'runs', 'cancel', runId, '--database-url', c.databaseUrl);
    expect(canceled.stdout, canceled.stderr).toMatch(/cancel requested/);
    expect(await runStatus(c.databaseUrl, runId)).toBe('canceled');
    const again = await cli(c.env, 'runs', 'cancel', runId);
    expect(again.stdout).toMatch(/is canceled; nothing to cancel/);

    const rerun = await cli(c.env, 'materialize');
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/run \S+ success/);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metric(metrics, 'billing_runs_finished_total{status="canceled"}')).toBe(1);
    expect(metric(metrics, 'billing_runs_finished_total{status="success"}')).toBe(1);
    expect(metric(metrics, 'billing_rows_ingested_total{asset="billing_events"}')).toBeGreaterThan(0);
    expect(metric(metrics, 'billing_queue_tasks{state="waiting"}')).toBe(0);
    await worker.stop();

    await expectSameAsEmbedded(c);
  }, 300_000);

  it('SIGTERM to a worker mid-run: it stops, its run is queued again and another worker finishes it', async () => {
    const c = await cluster(pg.server(), 'handover', {
      from: '2025-03-01',
      to: '2025-03-04',
      rowsPerDay: 30_000,
    });
    const [first] = await startWorkers(c.env, 1);
    const queued = await cli(c.env, 'materialize', '--no-wait');
    const runId = queued.stdout.match(/run (\S+) queued/)?.[1] ?? '';
    expect(runId, queued.stdout + queued.stderr).not.toBe('');
    await first?.waitFor(/task files?:\S+ of billing_events started/);
    await first?.stop('SIGTERM');
    expect(first?.child.exitCode, first?.output()).toBe(0);
    const resumed = first
      ?.output()
      .match(new RegExp(`run ${runId} was interrupted by this worker stopping; queued (\\S+)`))?.[1];
    expect(resumed, first?.output()).toBeTruthy();
    expect(await runStatus(c.databaseUrl, runId)).toBe('canceled');

    const [second] = await startWorkers(c.env, 1);
    expect(await runStatus(c.databaseUrl, resumed ?? '', 180_000)).toBe('success');
    await second?.stop();
    await expectSameAsEmbedded(c);
  }, 300_000);

  it('kill -9 of the coordinating worker: its lease lapses and another worker resumes the run once, long before BILLING_RUN_TIMEOUT', async () => {
    const c = await cluster(pg.server(), 'lost-coordinator', {
      from: '2025-03-01',
      to: '2025-03-02',
      rowsPerDay: 10_000,
      filesPerDay: 2,
    });
    // BILLING_RUN_TIMEOUT stays at its 6 h default: only the lease can notice the lost coordinator.
    const env = { ...c.env, BILLING_RUN_LEASE_TIMEOUT: '5' };
    const [coordinator] = await startWorkers(env, 1);
    const queued = await cli(env, 'materialize', '--no-wait');
    const runId = queued.stdout.match(/run (\S+) queued/)?.[1] ?? '';
    expect(runId, queued.stdout + queued.stderr).not.toBe('');
    await coordinator?.waitFor(new RegExp(`run ${runId} started`));
    const [survivor] = await startWorkers(env, 1);
    await coordinator?.waitFor(/task files?:\S+ of billing_events started/);
    await coordinator?.stop('SIGKILL');

    const takeover = await survivor?.waitFor(
      new RegExp(`run ${runId} lost its coordinator; run (\\S+) resumes its work`),
      60_000,
    );
    const resumed = takeover?.[1] ?? '';
    expect(await runStatus(c.databaseUrl, resumed, 180_000)).toBe('success');
    expect(await runStatus(c.databaseUrl, runId)).toBe('failed');

    const warehouse = await openWarehouse({ databaseUrl: c.databaseUrl, path: '' });
    try {
      const [lost] = await warehouse.all<{ error: string }>('SELECT error FROM runs WHERE run_id = $1', [
        runId,
      ]);
      expect(lost?.error).toMatch(
        new RegExp(`coordinator stopped renewing its lease for 5 s .*; run ${resumed} resumes its work`),
      );
      // Exactly one takeover, and no lease left behind.
      const resumes = await warehouse.all("SELECT run_id FROM runs WHERE trigger = 'resume'");
      expect(resumes).toEqual([{ run_id: resumed }]);
      expect(await warehouse.all('SELECT run_id FROM billing_queue.run_lease')).toEqual([]);
    } finally {
      await warehouse.close();
    }
    await survivor?.stop();
    await expectSameAsEmbedded(c);
  }, 300_000);

  it('a PostgreSQL restart in the middle of a run: workers reconnect and the runs recover', async () => {
    const server = pg.server();
    if (!server.restart) return; // An external server (BILLING_TEST_POSTGRES_URL) is not ours to restart.
    const c = await cluster(server, 'restart', {
      from: '2025-03-01',
      to: '2025-03-03',
      rowsPerDay: 30_000,
      filesPerDay: 2,
    });
    const env = { ...c.env, BILLING_TASK_TIMEOUT: '5', BILLING_RUN_TIMEOUT: '10' };
    const workers = await startWorkers(env, 2, 2);
    const queued = await cli(env, 'materialize', '--no-wait');
    const runId = queued.stdout.match(/run (\S+) queued/)?.[1] ?? '';
    expect(runId, queued.stdout + queued.stderr).not.toBe('');
    await Promise.race(workers.map((w) => w.waitFor(/task files?:\S+ of billing_events started/)));
    await server.restart();

    const status = await runStatus(c.databaseUrl, runId, 180_000).catch((e) => {
      throw new Error(`${e}\n${workers.map((w) => w.output().slice(-4000)).join('\n-----\n')}`);
    });
    // The run in flight ends (it is not left running); a run after the outage completes the work.
    console.log('IN-FLIGHT STATUS', status);
    expect(['success', 'failed']).toContain(status);
    const after = await cli(env, 'materialize');
    expect(after.code, after.stdout + after.stderr).toBe(0);
    for (const w of workers) expect(w.child.exitCode, w.output().slice(-3000)).toBeNull();
    await Promise.all(workers.map((w) => w.stop()));

    await expectSameAsEmbedded(c);
  }, 400_000);
});
