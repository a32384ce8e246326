import { DuckDBWarehouse } from '../warehouse/duckdb/duckdb-warehouse.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import type { DuckDBCatalog } from './sql-guard-duckdb.js';
import { readDuckDBCatalog } from './sql-guard-duckdb.js';
import { SqlRefusal } from './sql-refusal.js';
import { type ReadOnlySqlRequest, type ReadOnlySqlResult, runReadOnlySql } from './sql-runner.js';

export interface SqlServiceOptions {
  warehouse: Warehouse;
  databaseUrl: string | null;
  /** BILLING_SQL_TIMEOUT_MS: per query, and the longest a request waits for a free slot. */
  timeoutMs: number;
  /** BILLING_SQL_MAX_CONCURRENT: queries running at once; four times as many may wait. */
  maxConcurrent: number;
  /** BILLING_SQL_MAX_RESULT_BYTES. */
  maxResultBytes: number;
}

/** Ask again after this long when every slot is taken. */
const retryAfter = (timeoutMs: number) => Math.max(1, Math.ceil(timeoutMs / 1000));

/**
 * The SQL endpoint's queries, bounded: at most `maxConcurrent` run at once (the native driver
 * runs each on one of libuv's four pool threads; leaving threads free keeps the UI's own reads,
 * /readyz and file I/O answering), a few more wait up to the time limit, the rest get 429. On
 * close every running query is interrupted and waited for, so shutdown is bounded.
 */
export class SqlService {
  private running = 0;
  private readonly waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private readonly active = new Set<{ abort: AbortController; done: Promise<unknown> }>();
  private catalog: Promise<DuckDBCatalog> | null = null;
  private closed = false;

  constructor(private readonly options: SqlServiceOptions) {}

  get maxWaiting(): number {
    return this.options.maxConcurrent * 4;
  }

  /** `request.signal`: the client's request; a client that goes away stops its query. */
  async run(
    request: Pick<ReadOnlySqlRequest, 'sql' | 'limit' | 'params' | 'signal'> & {
      /** A larger byte cap for this query (the CSV download's), instead of BILLING_SQL_MAX_RESULT_BYTES. */
      maxBytes?: number;
    },
  ): Promise<ReadOnlySqlResult> {
    await this.acquire();
    const abort = new AbortController();
    const entry = { abort, done: Promise.resolve() as Promise<unknown> };
    try {
      const work = (async () =>
        runReadOnlySql(
          this.options.warehouse,
          {
            ...request,
            timeoutMs: this.options.timeoutMs,
            maxBytes: request.maxBytes ?? this.options.maxResultBytes,
            signal: request.signal ? AbortSignal.any([abort.signal, request.signal]) : abort.signal,
          },
          { databaseUrl: this.options.databaseUrl, catalog: await this.duckdbCatalog() },
        ))();
      entry.done = work.catch(() => {});
      this.active.add(entry);
      return await work;
    } finally {
      this.active.delete(entry);
      this.release();
    }
  }

  /** Refuses new queries, interrupts running ones and waits (at most `graceMs`) for them to end. */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(shuttingDown());
    const pending = [...this.active];
    for (const entry of pending) entry.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending.map((e) => e.done)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private async duckdbCatalog(): Promise<DuckDBCatalog | undefined> {
    const warehouse = this.options.warehouse;
    if (!(warehouse instanceof DuckDBWarehouse)) return undefined;
    this.catalog ??= (async () => {
      const connection = await warehouse.openConnection();
      try {
        return await readDuckDBCatalog(connection);
      } finally {
        connection.closeSync();
      }
    })();
    // A failed read (warehouse closing) is retried by the next query rather than kept.
    return this.catalog.catch((error: unknown) => {
      this.catalog = null;
      throw error;
    });
  }

  private async acquire(): Promise<void> {
    if (this.closed) throw shuttingDown();
    if (this.running < this.options.maxConcurrent) {
      this.running++;
      return;
    }
    if (this.waiting.length >= this.maxWaiting) throw this.busy();
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(this.busy());
      }, this.options.timeoutMs);
      this.waiting.push(waiter);
    });
  }

  /** Hands the slot straight to the next waiter, so `running` never drops below what runs. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve();
    else this.running--;
  }

  private busy(): SqlRefusal {
    const seconds = retryAfter(this.options.timeoutMs);
    return new SqlRefusal(
      'busy',
      `${this.options.maxConcurrent} SQL queries are already running and ${this.waiting.length} waiting (BILLING_SQL_MAX_CONCURRENT); try again in ${seconds} s`,
      seconds,
    );
  }
}

const shuttingDown = () =>
  new SqlRefusal('shutting_down', 'the server is shutting down; the query was not run');
