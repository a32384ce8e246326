/*
 * DuckDB reports faults of the file it works on (a lock another process holds, a full disk, a
 * corrupt block) as one-line engine errors. These turn them into messages that say which file,
 * what it means and what to do, in one place for opening the file and for statements on it.
 */

/** The one wording for a full disk, whoever was writing (DuckDB, or the pipeline's scratch files). */
export function noSpaceMessage(path: string): string {
  return `no space left on device writing ${path}: free space or set BILLING_HOME elsewhere`;
}

/** Node's ENOSPC (`write`, `open`, `mkdir` …), which names no path for writes to an open file. */
export function isNoSpaceError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ENOSPC';
}

/** A full disk met by the pipeline's own writes: the same message as DuckDB's, with the path. */
export class NoSpaceError extends Error {
  override name = 'NoSpaceError';
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(noSpaceMessage(path), options);
  }
}

/** The file is damaged (a checksum mismatch, not a DuckDB file, a WAL that cannot be replayed). */
export class CorruptWarehouseError extends Error {
  override name = 'CorruptWarehouseError';
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `the warehouse ${path} is corrupt (${detail}). Restore it from a backup, or rebuild it from the ` +
        `source: stop every process using it, move it away (mv ${path} ${path}.corrupt, and its .wal file ` +
        'if there is one) and run `billing-pipeline materialize`; the tables are rebuilt from the source ' +
        'files, but the run history, check results and sensor and schedule state kept in the file are ' +
        'lost (docs/failure-modes.md)',
      options,
    );
  }
}

/** Another process holds DuckDB's file lock (the only text that means this: "block" is not a lock). */
export class WarehouseBusyError extends Error {
  override name = 'WarehouseBusyError';
  constructor(
    readonly path: string,
    options?: ErrorOptions,
  ) {
    super(
      `the warehouse ${path} is in use by another process; stop it or point BILLING_WAREHOUSE elsewhere`,
      options,
    );
  }
}

/** The file or its folder cannot be written (a read-only mount, permissions). */
export class ReadOnlyWarehouseError extends Error {
  override name = 'ReadOnlyWarehouseError';
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `the warehouse ${path} cannot be written (${detail}): \`query\` reads such a file read-only, but ` +
        'this command writes; make the file and its folder writable, or point BILLING_HOME / BILLING_WAREHOUSE at a writable copy',
      options,
    );
  }
}

const READ_ONLY_FILE = /Read-only file system|Permission denied/i;
const LOCK_CONFLICT = /Could not set lock on file|Conflicting lock is held/;
const NO_SPACE = /No space left on device/i;
const CORRUPT =
  /Corrupt database file|does not match stored checksum|not a valid DuckDB database file|Failure while replaying WAL|Checksum mismatch/i;
/** DuckDB names the file it could not write: `Could not write file "/…/billing.duckdb.wal": No space …`. */
const WRITE_TARGET = /(?:write|create|open|extend)[^"]*"([^"]+)"[^"]*No space left on device/i;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The error as the user should see it, when it is a fault of the file; otherwise null. `opening`:
 * a permission error then is the warehouse's (a statement's may be any file's, as in COPY TO).
 */
export function describeFileFault(error: unknown, path: string, opening = false): Error | null {
  if (
    error instanceof NoSpaceError ||
    error instanceof CorruptWarehouseError ||
    error instanceof WarehouseBusyError ||
    error instanceof ReadOnlyWarehouseError
  )
    return error;
  const message = messageOf(error);
  // Statements can meet locks and permissions of other files (ATTACH, COPY TO): only opening names ours.
  if (opening && LOCK_CONFLICT.test(message)) return new WarehouseBusyError(path, { cause: error });
  if (NO_SPACE.test(message) || isNoSpaceError(error)) {
    const target = WRITE_TARGET.exec(message)?.[1] ?? path;
    return new NoSpaceError(target, { cause: error });
  }
  if (opening && READ_ONLY_FILE.test(message)) {
    const detail = READ_ONLY_FILE.exec(message)?.[0] ?? 'read-only file system';
    return new ReadOnlyWarehouseError(path, detail.toLowerCase(), { cause: error });
  }
  if (CORRUPT.test(message)) {
    // The engine's own words (which block, which checksum) help whoever restores the file.
    const detail = message
      .replace(/^(IO|FATAL|Internal) Error: /, '')
      .replace(/\s+/g, ' ')
      .slice(0, 300);
    return new CorruptWarehouseError(path, detail, { cause: error });
  }
  return null;
}

/** Rethrows a DuckDB error, explained when it is a fault of the file. */
export function rethrowDuckDBError(error: unknown, path: string, opening = false): never {
  throw describeFileFault(error, path, opening) ?? error;
}
