import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { QUEUE_SCHEMA } from './job-queue.js';

/*
 * Which workers are alive, so a submitter whose run nobody takes can say why ("no worker has taken
 * the run; 0 workers seen in the last 60 s"). pg-boss keeps no record of its workers, and the run
 * leases (run-lease.ts) only cover runs being coordinated, not idle workers: each worker upserts one
 * row every few seconds and deletes it when it stops. Times are the database's clock.
 */

const TABLE = `${QUEUE_SCHEMA}.worker_presence`;

export const WORKER_PRESENCE_SQL = {
  create: `CREATE TABLE IF NOT EXISTS ${TABLE} (
    worker_id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    slots integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at timestamptz NOT NULL DEFAULT now()
  )`,
  beat: `INSERT INTO ${TABLE} (worker_id, host, pid, slots) VALUES ($1, $2, $3, $4)
    ON CONFLICT (worker_id) DO UPDATE SET seen_at = now()`,
  leave: `DELETE FROM ${TABLE} WHERE worker_id = $1`,
  // Rows of workers gone for a day are noise: whoever counts sweeps them.
  sweep: `DELETE FROM ${TABLE} WHERE seen_at < now() - interval '1 day'`,
  seen: `SELECT count(*)::int AS n FROM ${TABLE} WHERE seen_at >= now() - make_interval(secs => $1::int)`,
} as const;

export interface PresenceDb {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** How often a worker says it is alive: well inside the 60 s a submitter looks back. */
export const PRESENCE_INTERVAL_MS = 10_000;

async function setup(db: PresenceDb): Promise<void> {
  try {
    await db.executeSql(WORKER_PRESENCE_SQL.create);
  } catch (error) {
    // Two workers creating it at once: one wins, the other's CREATE … IF NOT EXISTS races.
    await db.executeSql(`SELECT 1 FROM ${TABLE} LIMIT 0`).catch(() => {
      throw error;
    });
  }
}

/** Starts this worker's presence row (written at once, then every PRESENCE_INTERVAL_MS). */
export async function announceWorker(
  db: PresenceDb,
  slots: number,
  intervalMs = PRESENCE_INTERVAL_MS,
): Promise<{ stop(): Promise<void> }> {
  await setup(db);
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const beat = () => db.executeSql(WORKER_PRESENCE_SQL.beat, [id, hostname(), process.pid, slots]);
  await beat();
  // A missed beat (PostgreSQL restarting) is made up by the next one.
  const timer = setInterval(() => beat().catch(() => {}), intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await db.executeSql(WORKER_PRESENCE_SQL.leave, [id]).catch(() => {});
    },
  };
}

/** Workers that said they were alive within the last `withinSeconds`; 0 before any worker ever ran. */
export async function workersSeen(db: PresenceDb, withinSeconds = 60): Promise<number> {
  try {
    await db.executeSql(WORKER_PRESENCE_SQL.sweep);
    const { rows } = await db.executeSql(WORKER_PRESENCE_SQL.seen, [withinSeconds]);
    return Number((rows[0] as { n?: number } | undefined)?.n ?? 0);
  } catch (error) {
    // No worker has ever started on this database: the table does not exist yet.
    if ((error as { code?: string }).code === '42P01') return 0;
    throw error;
  }
}
