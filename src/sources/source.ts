import type { Readable } from 'node:stream';

/** One data file found in a source, identified by key and version so changes are detected. */
export interface SourceFile {
  /** Path relative to the source root, with `/` separators, e.g. `year=2025/month=04/day=23/part-0.csv`. */
  key: string;
  size: number;
  /** ETag for S3, `mtime-size-ctime-inode` for local files: a different value means the file was replaced. */
  version: string;
  /** The day partition the file belongs to, `YYYY-MM-DD`. */
  partition: string;
  /** True for `.csv.gz`. */
  gzip: boolean;
}

/** A CSV-looking key that cannot be a billing file (e.g. `day=30` of February), and why. */
export interface SkippedKey {
  key: string;
  size: number;
  version: string;
  reason: string;
}

export interface ListOptions {
  signal?: AbortSignal;
  /**
   * Called for every CSV-looking key that is not a billing file, so it can be recorded with its
   * reason instead of vanishing. May be called twice for a key when a listing is retried.
   */
  onSkipped?: (skipped: SkippedKey) => void;
}

/** A place billing files are read from (and, for the generator and tests, written to). */
export interface Source {
  /** Canonical location, e.g. `s3://bucket/prefix/` or an absolute folder path. */
  readonly uri: string;
  /** Every billing file below the root, in key order. Other keys are skipped (see `onSkipped`). */
  list(options?: ListOptions): AsyncIterable<SourceFile>;
  /** The raw (possibly gzip-compressed) bytes of one file. */
  open(key: string, options?: { signal?: AbortSignal }): Promise<Readable>;
  /** Writes a file at `key` (relative to the root). */
  put(key: string, body: Buffer | string): Promise<void>;
  /** Writes a file at `key` from a local file, streaming. */
  putFile(key: string, localPath: string): Promise<void>;
  close(): Promise<void>;
  /**
   * Loads what the first request needs (the AWS SDK for S3), so a caller can send it before
   * loading anything else. Absent where nothing is loaded lazily.
   */
  ready?(): Promise<void>;
  /**
   * Starts preparing the first listing in the background (S3: a worker thread loads the SDK) and
   * returns at once; the listing itself still starts only at `list` (or `ready`, then `list`).
   */
  warmUp?(): void;
}

/** An error from a source (listing or reading) with whether a retry may help. */
export class SourceError extends Error {
  readonly transient: boolean;
  constructor(message: string, options: { cause?: unknown; transient: boolean }) {
    super(message, { cause: options.cause });
    this.name = 'SourceError';
    this.transient = options.transient;
  }
}
