import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as DuckDBApi from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Mutex } from '../mutex.js';
import {
  type ColumnInfo,
  ident,
  literal,
  type QueryResult,
  type Row,
  type SqlSession,
  type SqlValue,
  type StageCsvOptions,
  type Warehouse,
} from '../warehouse.js';
import { rethrowDuckDBError } from './duckdb-errors.js';
import { cellConverter, toBindValues } from './duckdb-values.js';

/*
 * Required, not imported: an ESM import of this CommonJS package makes Node scan each of its
 * modules for named exports (cjs-module-lexer), 100-300 ms of every start; require skips it.
 */
const { DuckDBInstance } = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDBApi;
type DuckDBInstance = DuckDBApi.DuckDBInstance;

const UTC_NOW_MACRO = (scope: string) =>
  `CREATE OR REPLACE ${scope} MACRO utc_now() AS make_timestamp(epoch_us(get_current_timestamp()))`;
/** PostgreSQL's `div(a, b)`, the truncated integer quotient, so exact-money SQL is portable. */
const DIV_MACRO = (scope: string) =>
  `CREATE OR REPLACE ${scope} MACRO div(a, b) AS CAST(a AS HUGEINT) // CAST(b AS HUGEINT)`;

export interface DuckDBWarehouseOptions {
  /** Database file, or `:memory:`. */
  path: string;
  /** DuckDB `memory_limit`, e.g. `1GB`: bounds the engine so big loads spill instead of growing. */
  memoryLimit?: string;
  threads?: number;
  /** Folder for DuckDB's spill files. */
  tempDirectory?: string;
  /**
   * Turns off DuckDB's file and network access for the whole instance except these folders (and
   * the database file itself), so SQL from outside (the daemon's SQL endpoint) cannot read
   * `/etc/passwd` or fetch URLs. It cannot be switched back on while the instance is open; the
   * pipeline's own scratch folder must be listed or its bulk loads (read_csv) fail.
   */
  restrictFileAccess?: { allowedDirectories: readonly string[] };
  /**
   * DuckDB `access_mode = READ_ONLY`: for a command that only reads (`query`), so it works on a
   * read-only mount or file, and beside other readers. Every write fails; the file must exist.
   */
  readOnly?: boolean;
}

/** A connection wrapped so one statement runs at a time on it (the driver forbids overlap). */
class DuckDBSession implements SqlSession {
  constructor(
    private readonly connection: DuckDBConnection,
    private readonly statements: Mutex,
    private readonly location: string,
  ) {}

  async exec(sql: string, params: readonly SqlValue[] = []): Promise<void> {
    await this.statements
      .run(() => this.connection.run(sql, params.length ? toBindValues(params) : undefined))
      .catch((error: unknown) => rethrowDuckDBError(error, this.location));
  }

  async all<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<QueryResult> {
    return this.statements
      .run(async () => {
        const reader = await this.connection.runAndReadAll(
          sql,
          params.length ? toBindValues(params) : undefined,
        );
        const names = reader.columnNames();
        const types = reader.columnTypes();
        const columns: ColumnInfo[] = names.map((name, i) => ({ name, type: String(types[i]) }));
        const rows = reader.convertRowObjects(cellConverter) as Row[];
        return { columns, rows };
      })
      .catch((error: unknown) => rethrowDuckDBError(error, this.location));
  }

  /** One process writes a DuckDB file, one writer at a time: there is nobody to keep apart. */
  async lock(_key: string, _mode?: 'exclusive' | 'shared'): Promise<void> {}

  async stageCsv(options: StageCsvOptions): Promise<void> {
    const columnSpec = options.columns.map((c) => `${literal(c.name)}: ${literal(c.type)}`).join(', ');
    const paths = `[${options.paths.map(literal).join(', ')}]`;
    // A view, not a table: read_csv streams the files (in parallel) straight into whatever reads it.
    // auto_detect off: the pipeline wrote these files, so types are known and sniffing would only cost time.
    await this.exec(`CREATE OR REPLACE TEMP VIEW ${ident(options.name)} AS
      SELECT * FROM read_csv(${paths}, header = false, auto_detect = false,
        delim = ',', quote = '"', escape = '"', new_line = '\\n', columns = {${columnSpec}})`);
  }
}

export class DuckDBWarehouse implements Warehouse {
  readonly dialect = 'duckdb' as const;
  readonly location: string;
  private readonly writer: DuckDBSession;
  private readonly reader: DuckDBSession;
  private readonly writeLock = new Mutex();
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connections: DuckDBConnection[],
    location: string,
  ) {
    this.location = location;
    const [writer, reader] = connections as [DuckDBConnection, DuckDBConnection];
    // The write lock spans whole transactions; each session's own lock only keeps statements apart.
    this.writer = new DuckDBSession(writer, new Mutex(), location);
    // Reads use their own connection so they see committed data and never wait behind a long load.
    this.reader = new DuckDBSession(reader, new Mutex(), location);
  }

  static async open(options: DuckDBWarehouseOptions): Promise<DuckDBWarehouse> {
    if (options.path !== ':memory:' && !options.readOnly)
      await mkdir(dirname(options.path), { recursive: true });
    const config: Record<string, string> = {};
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    if (options.threads) config.threads = String(options.threads);
    if (options.tempDirectory) config.temp_directory = options.tempDirectory;
    // A large file is one INSERT … SELECT; keeping insertion order would buffer it whole in memory.
    config.preserve_insertion_order = 'false';
    if (options.readOnly) config.access_mode = 'READ_ONLY';
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(options.path, config);
    } catch (error) {
      // Only DuckDB's lock-conflict text means "busy" (a checksum error "in block …" does not).
      rethrowDuckDBError(error, options.path, true);
    }
    const connections = [await instance.connect(), await instance.connect()];
    // Every TIMESTAMP column is naive UTC. now()::TIMESTAMP would use the process's local zone, and
    // without the ICU extension (not bundled, not downloadable here) DuckDB's TimeZone cannot be set.
    // A read-only file cannot take the persistent macros: temporary ones shadow them for this process.
    const scope = options.readOnly ? 'TEMP' : '';
    try {
      await connections[0]?.run(UTC_NOW_MACRO(scope));
      await connections[0]?.run(DIV_MACRO(scope));
    } catch (error) {
      for (const c of connections) c.closeSync();
      instance.closeSync();
      rethrowDuckDBError(error, options.path);
    }
    if (options.restrictFileAccess) {
      // allowed_directories must be set first: once external access is off, settings are frozen.
      const dirs = options.restrictFileAccess.allowedDirectories.map((d) =>
        literal(d.endsWith('/') ? d : `${d}/`),
      );
      await connections[0]?.run(`SET GLOBAL allowed_directories = [${dirs.join(', ')}]`);
      await connections[0]?.run('SET GLOBAL enable_external_access = false');
    }
    return new DuckDBWarehouse(instance, connections, options.path);
  }

  exec(sql: string, params?: readonly SqlValue[]): Promise<void> {
    return this.writeLock.run(() => this.unlockedWriter().exec(sql, params));
  }

  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.reader.all<T>(sql, params);
  }

  query(sql: string, params?: readonly SqlValue[]): Promise<QueryResult> {
    return this.reader.query(sql, params);
  }

  stageCsv(options: StageCsvOptions): Promise<void> {
    return this.writeLock.run(() => this.unlockedWriter().stageCsv(options));
  }

  async lock(_key: string, _mode?: 'exclusive' | 'shared'): Promise<void> {}

  exclusive<T>(_key: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
    return this.writeLock.run(async () => {
      const tx = this.unlockedWriter();
      await tx.exec('BEGIN TRANSACTION');
      try {
        const result = await fn(tx);
        await tx.exec('COMMIT');
        return result;
      } catch (error) {
        await tx.exec('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writeLock.run(async () => {
      // A read-only file has nothing to write back; a failed checkpoint leaves the WAL, replayed on the next open.
      await this.unlockedWriter()
        .exec('CHECKPOINT')
        .catch(() => {});
      for (const c of this.connections) c.closeSync();
      this.instance.closeSync();
    });
  }

  /**
   * A separate connection for untrusted read-only SQL (the daemon's SQL endpoint): it can be
   * interrupted without disturbing the pipeline's connections. The caller closes it.
   */
  openConnection(): Promise<DuckDBConnection> {
    if (this.closed) throw new Error(`the warehouse ${this.location} is closed`);
    return this.instance.connect();
  }

  /** The writer connection without taking the write lock: only for code already holding it. */
  private unlockedWriter(): SqlSession {
    return this.writer;
  }
}
