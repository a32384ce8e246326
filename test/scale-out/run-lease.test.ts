import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { QUEUE_SCHEMA } from '../../src/orchestrator/scale-out/job-queue.js';
import { type LeaseDb, RunLeases } from '../../src/orchestrator/scale-out/run-lease.js';
import { createDatabase } from '../support/postgres.js';
import { postgresPerFile } from './support.js';

/*
 * The lease rules on a real PostgreSQL, without workers: a lapsed lease is claimed by exactly one
 * of several workers asking at once, its holder then learns it must stop, and a retried job of the
 * run cannot start it while it is being taken over.
 */

const pgServer = postgresPerFile();

async function leaseDb(): Promise<LeaseDb> {
  const { url } = await createDatabase(pgServer.server(), 'leases');
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  onTestFinished(() => pool.end());
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${QUEUE_SCHEMA}`);
  const db: LeaseDb = { executeSql: (text, values) => pool.query(text, values as unknown[]) };
  await RunLeases.setup(db);
  return db;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!pgServer.available)('run leases', () => {
  it('a renewed lease is never claimed; a lapsed one goes to exactly one of five claimers', async () => {
    const db = await leaseDb();
    const holder = new RunLeases(db, 1, 'holder');
    expect(await holder.acquire('run-1', 'job-a')).toBe(true);
    const claimers = Array.from({ length: 5 }, (_, i) => new RunLeases(db, 1, `claimer-${i}`));
    // Still fresh: nobody takes it.
    expect((await Promise.all(claimers.map((c) => c.claimStale()))).flat()).toEqual([]);
    expect(await holder.renew('run-1', 'job-a')).toBe(true);

    await sleep(2_100);
    const claims = (await Promise.all(claimers.map((c) => c.claimStale()))).flat();
    expect(claims).toEqual([{ runId: 'run-1', jobId: 'job-a' }]);
    // The lost holder, if it comes back, must stop; a retry of its job must not start the run.
    expect(await holder.renew('run-1', 'job-a')).toBe(false);
    expect(await holder.acquire('run-1', 'job-b')).toBe(false);

    await claimers[0]?.done('run-1');
    expect((await db.executeSql(`SELECT * FROM ${QUEUE_SCHEMA}.run_lease`)).rows).toEqual([]);
  });

  it('a retried job of the same run takes the lease over from its expired attempt, and releases it', async () => {
    const db = await leaseDb();
    const first = new RunLeases(db, 60, 'first');
    expect(await first.acquire('run-2', 'job-a')).toBe(true);
    const retry = new RunLeases(db, 60, 'retry');
    expect(await retry.acquire('run-2', 'job-b')).toBe(true);
    // The expired attempt is not told to stop (pg-boss decided, as before leases); its renewals no-op.
    expect(await first.renew('run-2', 'job-a')).toBe(true);
    await first.release('run-2', 'job-a');
    expect(await retry.renew('run-2', 'job-b')).toBe(true);
    await retry.release('run-2', 'job-b');
    expect((await db.executeSql(`SELECT * FROM ${QUEUE_SCHEMA}.run_lease`)).rows).toEqual([]);
  });
});
