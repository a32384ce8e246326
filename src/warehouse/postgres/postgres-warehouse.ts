import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Pool, type PoolClient, type QueryArrayResult } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Mutex } from '../mutex.js';
import {
  ident,
  type QueryResult,
  type Row,
  type SqlSession,
  type SqlValue,
  type StageCsvOptions,
  type Warehouse,
} from '../warehouse.js';
import {
  connectError,
  type PgTarget,
  parseDatabaseUrl,
  rawText,
  withSessionOptions,
} from './postgres-connect.js';
import { pgColumnType, toQueryResult } from './postgres-values.js';

export interface PostgresWarehouseOptions {
  /** `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (libpq URL parameters such as `sslmode` work). */
  url: string;
  /** Most connections the pool opens for reads; the writer holds one more while the warehouse is open. */
  maxConnections?: number;
  /** How long to wait for the server when connecting, in milliseconds. */
  connectTimeoutMs?: number;
  /** Shown in `pg_stat_activity`, so a DBA can tell the pipeline's sessions apart. */
  applicationName?: string;
}

// STABLE and plain SQL, so the planner inlines it and can prune partitions on `utc_now() - …`.
// now() is the transaction's start, as DuckDB's get_current_timestamp(): one instant per transaction.
const UTC_NOW_FUNCTION = `CREATE OR REPLACE FUNCTION utc_now() RETURNS timestamp
  LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT now() AT TIME ZONE 'UTC' $$`;

// DuckDB's round(DOUBLE, n), which PostgreSQL lacks (it rounds only NUMERIC to n digits), to the
// bit: x·10ⁿ rounded half away from zero (std::round; the fraction test is exact where
// floor(|x| + 0.5) is not), divided back; an infinite or NaN result gives the input back.
const ROUND_DOUBLE_FUNCTION = `CREATE OR REPLACE FUNCTION round(v double precision, digits integer)
  RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN r IN ('Infinity', '-Infinity', 'NaN') THEN v ELSE r END
  FROM (SELECT sign(x) * CASE WHEN abs(x) - floor(abs(x)) >= 0.5 THEN ceil(abs(x)) ELSE floor(abs(x)) END / m AS r
    FROM (SELECT v * m AS x, m FROM (SELECT 10::double precision ^ digits AS m) p) q) q2 $$`;

/** Functions portable SQL may call in both dialects, with how to tell each is there. */
const FUNCTIONS = [
  { ddl: UTC_NOW_FUNCTION, signature: 'utc_now()' },
  { ddl: ROUND_DOUBLE_FUNCTION, signature: 'round(double precision, integer)' },
];

type Queryable = Pool | PoolClient;

/** Statements on a pool (reads) or on one client (the writer, a transaction). */
class PostgresSession implements SqlSession {
  // pg deprecates sending a statement while one runs on the same client (pg 9 refuses it), and
  // callers may overlap statements inside a transaction: one at a time, as DuckDB's session does.
  private readonly statements = new Mutex();

  constructor(
    private readonly client: Queryable,
    /** Inside BEGIN … COMMIT: staged tables can be ON COMMIT DROP. */
    private readonly inTransaction: boolean,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.client instanceof Pool ? fn() : this.statements.run(fn);
  }

  async exec(sql: string, params: readonly SqlValue[] = []): Promise<void> {
    await this.serial(() => this.client.query(sql, params.length ? [...params] : undefined));
  }

  async all<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<QueryResult> {
    // Without parameters pg uses the simple protocol, which accepts several statements and answers
    // with one result each; DuckDB returns the last statement's, so this does too.
    const answer = (await this.serial(() =>
      this.client.query({ text: sql, values: params.length ? [...params] : undefined, rowMode: 'array' }),
    )) as QueryArrayResult<(string | null)[]> | QueryArrayResult<(string | null)[]>[];
    const result = Array.isArray(answer) ? answer.at(-1) : answer;
    if (!result?.fields.length) return { columns: [], rows: [] };
    return toQueryResult(result.fields, result.rows);
  }

  async lock(key: string, mode: 'exclusive' | 'shared' = 'exclusive'): Promise<void> {
    if (!this.inTransaction) throw new Error(`lock(${key}) needs a transaction`);
    const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
    await this.exec(`SELECT ${fn}(hashtext($1))`, [`billing-pipeline:${key}`]);
  }

  stageCsv(options: StageCsvOptions): Promise<void> {
    const client = this.client;
    if (client instanceof Pool) {
      return Promise.reject(
        new Error('stageCsv needs one connection: call it on the warehouse or in a transaction'),
      );
    }
    return this.statements.run(() => this.stageOn(client, options));
  }

  private async stageOn(client: PoolClient, options: StageCsvOptions): Promise<void> {
    const table = ident(options.name);
    const columns = options.columns.map((c) => `${ident(c.name)} ${pgColumnType(c.type)}`).join(', ');
    const names = options.columns.map((c) => ident(c.name)).join(', ');
    // Replaces an earlier staging of the same name, as DuckDB's CREATE OR REPLACE TEMP VIEW does.
    await client.query(`DROP TABLE IF EXISTS pg_temp.${table}`);
    // Outside a transaction every statement commits at once, so ON COMMIT DROP would drop the table
    // before it is filled: there it stays until restaged or the connection closes.
    await client.query(
      `CREATE TEMP TABLE ${table} (${columns})${this.inTransaction ? ' ON COMMIT DROP' : ''}`,
    );
    // FORCE_NULL: DuckDB's read_csv reads a quoted empty field ("") as NULL too, and the pipeline's
    // CSV writer quotes every text field; without it the two dialects would load different values.
    const copy = `COPY ${table} (${names}) FROM STDIN WITH (FORMAT csv, HEADER false, DELIMITER ',', QUOTE '"', ESCAPE '"', FORCE_NULL (${names}))`;
    // One COPY per file: a file need not end with a newline, and an error names the file.
    for (const path of options.paths) {
      try {
        await pipeline(createReadStream(path), client.query(copyFrom(copy)));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`staging ${path} as ${options.name} failed: ${message}`, { cause: error });
      }
    }
  }
}

export class PostgresWarehouse implements Warehouse {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  private readonly reader: PostgresSession;
  private readonly writeLock = new Mutex();
  private writer: PoolClient | undefined;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    target: PgTarget,
  ) {
    this.location = target.display;
    this.reader = new PostgresSession(pool, false);
  }

  static async open(options: PostgresWarehouseOptions): Promise<PostgresWarehouse> {
    const target = parseDatabaseUrl(options.url);
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const pool = new Pool({
      connectionString: withSessionOptions(options.url),
      max: options.maxConnections ?? 8,
      connectionTimeoutMillis: connectTimeoutMs,
      application_name: options.applicationName ?? 'billing-pipeline',
      // Per pool, not pg.types: other code in the process keeps pg's usual parsing.
      types: { getTypeParser: () => rawText },
    });
    // An idle client whose server went away emits here; without a listener that kills the process.
    // The next query gets a fresh connection (or the error), so there is nothing else to do.
    pool.on('error', () => {});
    const warehouse = new PostgresWarehouse(pool, target);
    try {
      await warehouse.writerClient();
    } catch (error) {
      await pool.end().catch(() => {});
      throw connectError(error, target, connectTimeoutMs);
    }
    try {
      await warehouse.installFunctions();
    } catch (error) {
      await warehouse.close();
      throw error;
    }
    return warehouse;
  }

  exec(sql: string, params?: readonly SqlValue[]): Promise<void> {
    return this.writeLock.run(async () => this.writerSession(await this.writerClient()).exec(sql, params));
  }

  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.reader.all<T>(sql, params);
  }

  query(sql: string, params?: readonly SqlValue[]): Promise<QueryResult> {
    return this.reader.query(sql, params);
  }

  stageCsv(options: StageCsvOptions): Promise<void> {
    return this.writeLock.run(async () => this.writerSession(await this.writerClient()).stageCsv(options));
  }

  lock(key: string): Promise<void> {
    return Promise.reject(new Error(`lock(${key}) needs a transaction`));
  }

  async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    // Its own connection: a session-level lock lives as long as the connection that took it.
    const client = await this.pool.connect();
    const id = `billing-pipeline:${key}`;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [id]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [id]).catch(() => {});
      }
    } finally {
      client.release();
    }
  }

  async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    return this.writeLock.run(async () => {
      const client = await this.writerClient();
      await client.query('BEGIN');
      try {
        const result = await fn(new PostgresSession(client, true));
        const commit = await client.query('COMMIT');
        // COMMIT of a transaction that already failed "succeeds" as a ROLLBACK: happens when fn
        // caught a statement's error and went on. DuckDB would throw here, so must this.
        if (commit.command === 'ROLLBACK') {
          throw new Error(
            'the transaction was rolled back: a statement in it failed and its error was caught',
          );
        }
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeLock.run(async () => {
      this.writer?.release();
      this.writer = undefined;
      await this.pool.end();
    });
  }

  private writerSession(client: PoolClient): PostgresSession {
    return new PostgresSession(client, false);
  }

  /**
   * The writer keeps one connection, as DuckDB's writer does, so a relation staged outside a
   * transaction is there for the statements after it. A broken connection is replaced on next use.
   */
  private async writerClient(): Promise<PoolClient> {
    if (this.closed) throw new Error(`the warehouse ${this.location} is closed`);
    if (this.writer) return this.writer;
    const client = await this.pool.connect();
    client.on('error', (error) => {
      if (this.writer !== client) return;
      this.writer = undefined;
      client.release(error);
    });
    this.writer = client;
    return client;
  }

  /**
   * Several processes may open the same database at once, and concurrent CREATE OR REPLACE of one
   * function fails ("tuple concurrently updated"): an advisory lock takes them in turn. A role
   * without CREATE on the schema can still use functions that someone else installed.
   */
  private async installFunctions(): Promise<void> {
    const client = await this.writerClient();
    try {
      await client.query('BEGIN');
      await client.query("SELECT pg_advisory_xact_lock(hashtext('billing-pipeline:utc_now'))");
      for (const f of FUNCTIONS) await client.query(f.ddl);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      const missing: string[] = [];
      for (const f of FUNCTIONS) {
        const found = await client.query('SELECT to_regprocedure($1) IS NOT NULL AS present', [f.signature]);
        if (found.rows[0]?.present !== 't') missing.push(f.ddl);
      }
      if (missing.length === 0) return;
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(
        `cannot create the pipeline's SQL functions in ${this.location} (${message}): grant the user CREATE on its schema, or create them once as the owner: ${missing.join('; ')}`,
        { cause: error },
      );
    }
  }
}
