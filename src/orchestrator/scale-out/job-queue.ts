import { randomUUID } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import type { Cell } from '../../warehouse/warehouse.js';
import {
  NOTIFY_SQL,
  QUEUE_CHANNEL,
  QueueListener,
  type QueueSignal,
  signalPayload,
} from './queue-signals.js';

/** Where pg-boss keeps its tables: its own schema, beside the warehouse's. */
export const QUEUE_SCHEMA = 'billing_queue';
/** One job per run: the coordinator that walks the asset graph and dispatches tasks. */
export const RUN_QUEUE = 'runs';
/** One job per unit of work (a file's ingest, a day's recompute), run by any worker. */
export const TASK_QUEUE = 'tasks';
/** Run jobs that used up their retries land here, so the ledger learns the run is lost. */
export const DEAD_RUN_QUEUE = 'runs-dead';

/** Session advisory lock around creating and updating the queues (see JobQueue.createQueues). */
const QUEUE_SETUP_LOCK = {
  lock: "SELECT pg_advisory_lock(hashtext('billing-pipeline:setup:queues'))",
  unlock: "SELECT pg_advisory_unlock(hashtext('billing-pipeline:setup:queues'))",
} as const;

export interface QueueSettings {
  /** A task still running after this long is presumed lost (its worker died) and retried. */
  taskTimeoutSeconds: number;
  /** The same for a whole run's coordinator. */
  runTimeoutSeconds: number;
  /**
   * A coordinator renews a lease on its run every few seconds; one not renewed for this long is
   * presumed lost (kill -9, machine gone) and another worker resumes the run (run-lease.ts).
   */
  runLeaseTimeoutSeconds: number;
  /** Extra attempts for a failed or lost task / run, with exponential backoff from `retryDelaySeconds`. */
  retries: number;
  retryDelaySeconds: number;
  /** How often pg-boss looks for expired jobs (seconds). */
  maintenanceIntervalSeconds: number;
  /**
   * How often an idle worker asks for work (seconds, at least 0.5). Only the fallback: enqueuing
   * NOTIFYs the workers, which fetch at once (queue-signals.ts).
   */
  pollingIntervalSeconds: number;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  taskTimeoutSeconds: 900,
  runTimeoutSeconds: 6 * 3600,
  runLeaseTimeoutSeconds: 60,
  retries: 3,
  retryDelaySeconds: 2,
  maintenanceIntervalSeconds: 30,
  pollingIntervalSeconds: 0.5,
};

export interface RunJobData {
  runId: string;
}

export interface TaskJobData {
  runId: string;
  asset: string;
  key: string;
  payload: Record<string, Cell>;
}

export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

export interface JobStatus {
  id: string;
  state: JobState;
  output: unknown;
}

const STATES_SQL = `
  SELECT id::text AS id, state::text AS state, output FROM ${QUEUE_SCHEMA}.job WHERE id = ANY($1::uuid[])
  UNION ALL
  SELECT id::text, state::text, output FROM ${QUEUE_SCHEMA}.archive WHERE id = ANY($1::uuid[])`;

const RUN_JOB_SQL = `
  SELECT id::text AS id FROM ${QUEUE_SCHEMA}.job
  WHERE name = '${RUN_QUEUE}' AND data->>'runId' = $1 AND state < 'completed'`;

const DEPTH_SQL = `
  SELECT name, count(*) FILTER (WHERE state IN ('created', 'retry'))::int AS waiting,
    count(*) FILTER (WHERE state = 'active')::int AS active
  FROM ${QUEUE_SCHEMA}.job WHERE name IN ('${RUN_QUEUE}', '${TASK_QUEUE}') GROUP BY name`;

/**
 * The scale-out job queue: pg-boss on the warehouse's PostgreSQL. Retries with backoff, expiry of
 * jobs whose worker died, cancel and dead-lettering are pg-boss's own; this wraps the few calls the
 * pipeline makes and the status queries pg-boss has no batch API for.
 */
export class JobQueue {
  private listener: Promise<QueueListener> | null = null;
  /** pg-boss worker ids per queue, woken by that queue's NOTIFY. */
  private readonly wakeable = new Map<string, string[]>();
  private waking = false;

  private constructor(
    readonly boss: PgBoss,
    readonly settings: QueueSettings,
    /** Enqueue + NOTIFY and complete + NOTIFY, each in one transaction (pg-boss's own pool has no BEGIN). */
    private readonly pool: pg.Pool,
    private readonly url: string,
  ) {}

  static async open(options: {
    url: string;
    settings?: Partial<QueueSettings>;
    /** Connections for pg-boss's own pool. */
    maxConnections?: number;
    onError?: (error: Error) => void;
  }): Promise<JobQueue> {
    const settings = { ...DEFAULT_QUEUE_SETTINGS, ...options.settings };
    const boss = new PgBoss({
      connectionString: options.url,
      schema: QUEUE_SCHEMA,
      max: options.maxConnections ?? 4,
      application_name: 'billing-pipeline-queue',
      supervise: true,
      maintenanceIntervalSeconds: settings.maintenanceIntervalSeconds,
      schedule: false,
    });
    // Without a listener an 'error' event (e.g. the server restarting) would kill the process;
    // pg-boss reconnects by itself.
    boss.on('error', (error) => options.onError?.(error));
    await boss.start();
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 2,
      application_name: 'billing-pipeline-queue',
    });
    // An idle client whose server went away emits here; the next use reconnects.
    pool.on('error', () => {});
    const queue = new JobQueue(boss, settings, pool, options.url);
    await queue.createQueues();
    return queue;
  }

  /**
   * pg-boss's create_queue inserts the queue's row (ROW EXCLUSIVE on its queue table), then adds a
   * foreign key to that table (SHARE ROW EXCLUSIVE, which conflicts with the first): two processes
   * creating queues at once deadlock, one waiting for the other's row while holding what the other
   * needs. Seen with three workers starting on a fresh database; held on a connection of our own.
   */
  private async createQueues(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query(QUEUE_SETUP_LOCK.lock);
      try {
        await this.createQueuesLocked();
      } finally {
        await client.query(QUEUE_SETUP_LOCK.unlock).catch(() => {});
      }
    } finally {
      client.release();
    }
  }

  private async createQueuesLocked(): Promise<void> {
    const s = this.settings;
    const existing = new Set((await this.boss.getQueues()).map((q) => q.name));
    const queues: PgBoss.Queue[] = [
      { name: DEAD_RUN_QUEUE, policy: 'standard', retryLimit: 0 },
      {
        name: RUN_QUEUE,
        policy: 'standard',
        retryLimit: s.retries,
        retryDelay: s.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: s.runTimeoutSeconds,
        deadLetter: DEAD_RUN_QUEUE,
      },
      {
        name: TASK_QUEUE,
        policy: 'standard',
        retryLimit: s.retries,
        retryDelay: s.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: s.taskTimeoutSeconds,
      },
    ];
    for (const q of queues) {
      try {
        if (existing.has(q.name)) await this.boss.updateQueue(q.name, q);
        else await this.boss.createQueue(q.name, q);
      } catch (error) {
        // Another process created it between our look and our create.
        if (!(await this.boss.getQueue(q.name))) throw error;
      }
    }
  }

  async sendRuns(runIds: readonly string[]): Promise<void> {
    await this.insert(runIds.map((runId) => ({ name: RUN_QUEUE, data: { runId } satisfies RunJobData })));
  }

  async sendTasks(tasks: readonly TaskJobData[]): Promise<string[]> {
    return this.insert(tasks.map((data) => ({ name: TASK_QUEUE, data })));
  }

  /**
   * Inserts jobs in chunks with ids chosen here, so the caller can follow them; each chunk commits
   * with a NOTIFY that wakes the idle workers (delivered on commit: they find the jobs there).
   */
  private async insert(jobs: readonly { name: string; data: object }[]): Promise<string[]> {
    const withIds = jobs.map((job) => ({ ...job, id: randomUUID() }));
    for (let i = 0; i < withIds.length; i += 500) {
      const chunk = withIds.slice(i, i + 500);
      await this.inTransaction(async (db) => {
        await this.boss.insert(chunk, { db });
        for (const queue of new Set(chunk.map((j) => j.name)))
          await db.executeSql(NOTIFY_SQL, [QUEUE_CHANNEL, signalPayload({ kind: 'jobs', queue })]);
      });
    }
    return withIds.map((j) => j.id);
  }

  /**
   * Marks a task completed with its output and tells the run's coordinator at once, instead of
   * at its next look. pg-boss completes the job again when the handler returns: a no-op then (it
   * only completes active jobs). When this fails the handler goes on and pg-boss records it.
   */
  async completeTask(id: string, runId: string, output: object): Promise<void> {
    await this.inTransaction(async (db) => {
      await this.boss.complete(TASK_QUEUE, id, output, { db });
      await db.executeSql(NOTIFY_SQL, [QUEUE_CHANNEL, signalPayload({ kind: 'done', runId })]);
    });
  }

  private async inTransaction(fn: (db: PgBoss.Db) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    const db: PgBoss.Db = { executeSql: (text, values) => client.query(text, values) };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await fn(db);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * pg-boss's `work` (one job at a time, polling every `pollingIntervalSeconds`), woken at once by
   * the NOTIFY of jobs inserted into `name`. A busy worker only notes the wake-up and fetches again
   * as soon as its job ends. Without a LISTEN connection it polls, and `onNoListen` is told why.
   */
  async work<T extends object>(
    name: string,
    handler: (job: PgBoss.Job<T>) => Promise<unknown>,
    onNoListen?: (error: Error) => void,
  ): Promise<string> {
    const polling = { pollingIntervalSeconds: this.settings.pollingIntervalSeconds, batchSize: 1 };
    let workerId: string | undefined;
    const id = await this.boss.work<T>(name, polling, async ([job]) => {
      if (!job) return undefined;
      try {
        return await handler(job);
      } finally {
        // pg-boss 10 sleeps out the rest of its polling interval after a job shorter than it, even
        // with more jobs waiting: a 20 ms day task then cost 500 ms. Woken here, it fetches the next
        // one at once (and sleeps only when that fetch finds nothing).
        if (workerId !== undefined) this.boss.notifyWorker(workerId);
      }
    });
    workerId = id;
    const ids = this.wakeable.get(name) ?? [];
    ids.push(id);
    this.wakeable.set(name, ids);
    if (!this.waking) {
      this.waking = true;
      await this.onSignal((signal) => {
        if (signal.kind !== 'jobs') return;
        for (const worker of this.wakeable.get(signal.queue) ?? []) this.boss.notifyWorker(worker);
      }).catch((error: Error) => {
        this.waking = false;
        onNoListen?.(error);
      });
    }
    return id;
  }

  /** Stops a worker `work` started. */
  async offWork(id: string): Promise<void> {
    for (const ids of this.wakeable.values()) if (ids.includes(id)) ids.splice(ids.indexOf(id), 1);
    await this.boss.offWork({ id });
  }

  /**
   * Calls `handler` on every queue signal (jobs inserted, a task done), from one LISTEN connection
   * per process. Rejects when that connection cannot be made: polling still works without it.
   */
  async onSignal(handler: (signal: QueueSignal) => void): Promise<() => void> {
    this.listener ??= QueueListener.start(this.url);
    try {
      return (await this.listener).on(handler);
    } catch (error) {
      this.listener = null;
      throw error;
    }
  }

  async states(ids: readonly string[]): Promise<Map<string, JobStatus>> {
    const { rows } = await this.boss.getDb().executeSql(STATES_SQL, [ids]);
    return new Map((rows as JobStatus[]).map((r) => [r.id, r]));
  }

  /** The unfinished coordinator job of a run, if any. */
  async runJobOf(runId: string): Promise<string | null> {
    const { rows } = await this.boss.getDb().executeSql(RUN_JOB_SQL, [runId]);
    return (rows[0] as { id: string } | undefined)?.id ?? null;
  }

  async cancel(queue: string, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.boss.cancel(queue, [...ids]);
  }

  /** Jobs waiting and running per queue: the queue-depth metric. */
  async depth(): Promise<Record<'runs' | 'tasks', { waiting: number; active: number }>> {
    const { rows } = await this.boss.getDb().executeSql(DEPTH_SQL, []);
    const result = { runs: { waiting: 0, active: 0 }, tasks: { waiting: 0, active: 0 } };
    for (const r of rows as { name: 'runs' | 'tasks'; waiting: number; active: number }[]) {
      result[r.name] = { waiting: Number(r.waiting), active: Number(r.active) };
    }
    return result;
  }

  async close(options: { graceful?: boolean; timeoutMs?: number } = {}): Promise<void> {
    await this.boss.stop({
      graceful: options.graceful ?? true,
      wait: true,
      timeout: options.timeoutMs ?? 30_000,
    });
    // After the workers have stopped: a task finishing during the stop still completes through the pool.
    const listener = this.listener;
    this.listener = null;
    await listener?.then((l) => l.close()).catch(() => {});
    await this.pool.end().catch(() => {});
  }
}

/** What a failed job's output says, for messages: pg-boss stores the serialized error. */
export function jobError(output: unknown): string {
  if (output && typeof output === 'object') {
    const o = output as { message?: unknown; value?: { message?: unknown } };
    if (typeof o.message === 'string') return o.message;
    if (typeof o.value?.message === 'string') return o.value.message;
  }
  return output === null || output === undefined ? 'unknown error' : JSON.stringify(output);
}
