import { describe, expect, it } from 'vitest';
import { openWarehouse } from '../../src/warehouse/create-warehouse.js';
import { cli, cluster, expectSameAsEmbedded, postgresPerFile, runStatus, startWorkers } from './support.js';

const pg = postgresPerFile();

describe.skipIf(!pg.available)('scale-out: one configuration for submitter and workers', () => {
  it('says when no worker takes a run; a worker without BILLING_SOURCE runs it under the recorded configuration', async () => {
    const c = await cluster(pg.server(), 'runconfig', {
      from: '2025-03-01',
      to: '2025-03-02',
      rowsPerDay: 200,
    });
    // No worker yet: the submitter says so, then gives up waiting (the run stays queued).
    const waiting = await cli(
      { ...c.env, BILLING_WORKER_NOTICE_AFTER: '1', BILLING_QUEUE_WAIT_TIMEOUT: '3' },
      'materialize',
    );
    expect(waiting.stderr).toContain('no worker has taken the run; 0 workers seen in the last 60 s');
    expect(waiting.stderr).toMatch(/no worker took run (\S+) within 3 s .*it stays queued/);
    expect(waiting.code).toBe(1);
    const runId = /no worker took run (\S+) within/.exec(waiting.stderr)?.[1] ?? '';

    // The worker knows the database only: the source and the FX file come with the run.
    const { BILLING_SOURCE: _source, BILLING_FX_SOURCE: _fx, ...workerEnv } = c.env;
    const [worker] = await startWorkers(workerEnv, 1);
    expect(await runStatus(c.databaseUrl, runId, 180_000)).toBe('success');
    await worker?.stop();

    const w = await openWarehouse({ databaseUrl: c.databaseUrl, path: '' });
    try {
      const [run] = await w.all<{ config: string }>('SELECT config FROM runs WHERE run_id = $1', [runId]);
      const recorded = JSON.parse(run?.config ?? '{}');
      expect(recorded.source).toBe(c.source);
      expect(recorded.fx_source).toBe(c.env.BILLING_FX_SOURCE);
      // The password of the database URL is not recorded.
      expect(recorded.scale_out.database_url).not.toContain(new URL(c.databaseUrl).password || '\u0000');
    } finally {
      await w.close();
    }
    await expectSameAsEmbedded(c);
  }, 300_000);
});
