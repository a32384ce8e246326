import { hostname } from 'node:os';
import { QUEUE_SCHEMA } from './job-queue.js';

/*
 * Leases on running runs, so a coordinator lost to kill -9 or a dead machine is noticed within
 * about a minute instead of after BILLING_RUN_TIMEOUT (pg-boss 10 has no job heartbeat). The
 * coordinating worker holds one row per run and renews it every few seconds; every worker looks for
 * rows not renewed within the lease timeout and claims each one with a single UPDATE, so exactly one
 * of them takes the run over. Times are the database's clock, never a worker's.
 */

const TABLE = `${QUEUE_SCHEMA}.run_lease`;

export const RUN_LEASE_SQL = {
  create: `CREATE TABLE IF NOT EXISTS ${TABLE} (
    run_id text PRIMARY KEY,
    job_id text NOT NULL,
    owner text NOT NULL,
    -- held: a coordinator runs it; taking_over: a worker is handing it to a new run
    state text NOT NULL DEFAULT 'held',
    renewed_at timestamptz NOT NULL DEFAULT now()
  )`,
  // A retried job of the same run takes the lease over; a run already being taken over is not run.
  acquire: `INSERT INTO ${TABLE} AS l (run_id, job_id, owner) VALUES ($1, $2, $3)
    ON CONFLICT (run_id) DO UPDATE SET job_id = excluded.job_id, owner = excluded.owner, renewed_at = now()
    WHERE l.state = 'held'
    RETURNING run_id`,
  renew: `UPDATE ${TABLE} SET renewed_at = now()
    WHERE run_id = $1 AND job_id = $2 AND state = 'held' RETURNING run_id`,
  state: `SELECT state FROM ${TABLE} WHERE run_id = $1`,
  release: `DELETE FROM ${TABLE} WHERE run_id = $1 AND job_id = $2`,
  // The row lock makes this exactly-once: a second worker's UPDATE waits, then finds the row renewed.
  claimStale: `UPDATE ${TABLE} SET state = 'taking_over', owner = $2, renewed_at = now()
    WHERE run_id IN (
      SELECT run_id FROM ${TABLE} WHERE renewed_at < now() - make_interval(secs => $1::int)
      ORDER BY renewed_at LIMIT 10 FOR UPDATE SKIP LOCKED)
    RETURNING run_id, job_id`,
  done: `DELETE FROM ${TABLE} WHERE run_id = $1 AND state = 'taking_over'`,
} as const;

/** What the leases need of the queue: its SQL (pg-boss's pool). */
export interface LeaseDb {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface StaleLease {
  runId: string;
  /** The pg-boss job of the lost coordinator: cancelled, so its expiry never retries it. */
  jobId: string;
}

/** This process's name in the lease rows, for whoever reads them. */
export function leaseOwner(): string {
  return `${hostname()}:${process.pid}`;
}

export class RunLeases {
  constructor(
    private readonly db: LeaseDb,
    /** A lease not renewed for this long belongs to a lost coordinator. */
    readonly timeoutSeconds: number,
    private readonly owner: string = leaseOwner(),
  ) {}

  /** How often a holder renews: several times per timeout, at most every 10 s. */
  get renewIntervalMs(): number {
    return Math.max(250, Math.min(10_000, (this.timeoutSeconds * 1000) / 5));
  }

  static async setup(db: LeaseDb): Promise<void> {
    try {
      await db.executeSql(RUN_LEASE_SQL.create);
    } catch (error) {
      // Two processes creating it at once: one wins, the other's CREATE … IF NOT EXISTS races.
      await db.executeSql(`SELECT 1 FROM ${TABLE} LIMIT 0`).catch(() => {
        throw error;
      });
    }
  }

  /** False: another worker is taking this run over, so this job must not run it. */
  async acquire(runId: string, jobId: string): Promise<boolean> {
    const { rows } = await this.db.executeSql(RUN_LEASE_SQL.acquire, [runId, jobId, this.owner]);
    return rows.length > 0;
  }

  /**
   * False: another worker is taking the run over (this coordinator was presumed lost), so the run
   * must stop. A retry of the same run's job holding the lease instead (pg-boss expired this job
   * after BILLING_RUN_TIMEOUT) is pg-boss's decision, as before leases: not a reason to stop.
   */
  async renew(runId: string, jobId: string): Promise<boolean> {
    const { rows } = await this.db.executeSql(RUN_LEASE_SQL.renew, [runId, jobId]);
    if (rows.length > 0) return true;
    const { rows: state } = await this.db.executeSql(RUN_LEASE_SQL.state, [runId]);
    return (state[0] as { state?: string } | undefined)?.state !== 'taking_over';
  }

  async release(runId: string, jobId: string): Promise<void> {
    await this.db.executeSql(RUN_LEASE_SQL.release, [runId, jobId]);
  }

  /**
   * Claims leases whose holder stopped renewing. A claim is itself a lease: if this worker dies
   * while handing the run over, another one claims it again after the timeout.
   */
  async claimStale(): Promise<StaleLease[]> {
    const { rows } = await this.db.executeSql(RUN_LEASE_SQL.claimStale, [
      Math.ceil(this.timeoutSeconds),
      this.owner,
    ]);
    return (rows as { run_id: string; job_id: string }[]).map((r) => ({ runId: r.run_id, jobId: r.job_id }));
  }

  /** The takeover is complete. */
  async done(runId: string): Promise<void> {
    await this.db.executeSql(RUN_LEASE_SQL.done, [runId]);
  }
}
