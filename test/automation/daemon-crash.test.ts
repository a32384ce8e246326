import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/billing/generate/generator.js';
import { createSource } from '../../src/sources/create-source.js';
import type { Row } from '../../src/warehouse/warehouse.js';
import { snapshot, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
import { eventually, type RunRow, type ServeProcess, settled, startServe } from './daemon-support.js';

let source: string;
let clean: Record<string, Row[]>;

/** Enough files that an ingest is still going when the test strikes. */
beforeAll(async () => {
  const data = await testPipeline('crash-data');
  source = data.source;
  const scratch = await tmpDir('crash-gen');
  const sink = createSource(source, data.env);
  await generate(
    { from: '2025-04-01', to: '2025-04-16', rowsPerDay: 900, seed: 11, filesPerDay: 3, tmpDir: scratch },
    (key, file) => sink.putFile(key, file),
  );
  await sink.close();
  await rm(scratch, { recursive: true, force: true });
  await data.materialize();
  clean = await snapshot(data);
});

const envOf = (p: TestPipeline) => ({
  ...p.env,
  BILLING_SOURCE: source,
  BILLING_HOME: path.join(p.home, 'state'),
});

/** Queues a run through the API and waits until its ingest has committed some files, not all. */
async function runUntilMidIngest(daemon: ServeProcess, body: object = {}): Promise<string> {
  const { runId } = await daemon.api<{ runId: string }>('POST', '/api/runs', body);
  await eventually(async () => {
    const [state] = await daemon.sql<{ loaded: number }>(
      "SELECT count(*) FILTER (WHERE status = 'loaded') AS loaded FROM billing_files",
    );
    return Number(state?.loaded) > 0 ? true : undefined;
  }, 'the first files to load');
  return runId;
}

const tagsOf = (run: RunRow | undefined): Record<string, string> =>
  run?.tags ? (JSON.parse(run.tags) as Record<string, string>) : {};

describe('daemon crash safety', () => {
  it('after kill -9 mid-run, the next start fails the orphan, resumes it, and ends with clean tables', async () => {
    const p = await testPipeline('crash-kill9', { source });
    const env = envOf(p);
    const first = await startServe(env);
    const runId = await runUntilMidIngest(first);
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    // The killed daemon could not clean up; the next start must see through the stale file.
    expect(existsSync(path.join(env.BILLING_HOME, 'daemon.json'))).toBe(true);

    const second = await startServe(env);
    await second.waitFor(/marked 1 run\(s\) interrupted by a crash as failed/);
    const [, resumedId] = await second.waitFor(
      new RegExp(`run ${runId} was interrupted; queued (\\S+) to finish its work`),
    );
    const runs = await settled(second);
    const orphan = runs.find((r) => r.run_id === runId);
    const resumed = runs.find((r) => r.run_id === resumedId);
    expect(orphan).toMatchObject({ status: 'failed', error: expect.stringMatching(/orphaned/) });
    expect(resumed).toMatchObject({ status: 'success', trigger: 'resume' });
    expect(tagsOf(resumed)).toMatchObject({ resumed_from: runId, resume_attempt: '1' });
    expect(runs).toHaveLength(2);
    expect(await second.stop()).toEqual({ code: 0, signal: null });

    expect(await snapshot(p)).toEqual(clean);
  });

  it('on SIGTERM stops the current run at a safe point, exits 0, and the next start finishes the queue', async () => {
    const p = await testPipeline('crash-sigterm', { source });
    const env = envOf(p);
    const first = await startServe(env);
    const runId = await runUntilMidIngest(first);
    const { runId: waiting } = await first.api<{ runId: string }>('POST', '/api/runs', {
      from: '2025-04-05',
      to: '2025-04-05',
    });
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(first.output()).toMatch(/stopped; the warehouse is closed/);
    // Closed cleanly: checkpointed (no WAL left), daemon.json removed.
    expect(existsSync(path.join(env.BILLING_HOME, 'billing.duckdb.wal'))).toBe(false);
    expect(existsSync(path.join(env.BILLING_HOME, 'daemon.json'))).toBe(false);

    const [, requeued] =
      first.output().match(new RegExp(`run ${runId} was interrupted; queued (\\S+)`)) ?? [];
    expect(requeued).toBeDefined();
    const stored = await p.rows('SELECT run_id, status, trigger FROM runs ORDER BY created_at, run_id');
    expect(stored).toEqual([
      { run_id: runId, status: 'canceled', trigger: 'api' },
      { run_id: waiting, status: 'queued', trigger: 'api' },
      { run_id: requeued, status: 'queued', trigger: 'resume' },
    ]);

    const second = await startServe(env);
    const runs = await settled(second);
    expect(runs.map((r) => [r.run_id, r.status])).toEqual([
      [runId, 'canceled'],
      [waiting, 'success'],
      [requeued, 'success'],
    ]);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(await snapshot(p)).toEqual(clean);
  });
});
