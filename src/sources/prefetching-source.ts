import type { Readable } from 'node:stream';
import type { ListOptions, SkippedKey, Source, SourceFile } from './source.js';

interface Listing {
  files: SourceFile[];
  skipped: SkippedKey[];
}

/** `promise`, or the signal's reason as soon as it aborts (the promise itself runs on). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * A source whose first listing can start before anyone asks for it. A listing is mostly waiting
 * for the server (1,460 S3 objects: two pages, 0.2-0.4 s); a process that opens the warehouse to
 * run once starts it as soon as it holds the warehouse, and loads the pipeline and sets up the
 * schema meanwhile, instead of listing after all of that. Only the first `list` gets the early
 * listing (with its skipped keys, and its error if it failed); every later one lists anew.
 */
export class PrefetchingSource implements Source {
  readonly uri: string;
  private early: Promise<Listing> | null = null;

  constructor(private readonly inner: Source) {
    this.uri = inner.uri;
  }

  /**
   * Starts the listing the next `list` returns (no-op if one is already waiting). Resolves once
   * its first request is on its way, so what the caller loads next does not hold it back.
   */
  async prefetch(): Promise<void> {
    if (this.early) return;
    // A failure to load surfaces through the listing, like any other.
    await this.inner.ready?.().catch(() => {});
    if (this.early) return;
    const listing: Listing = { files: [], skipped: [] };
    // By key, like billing_files: a retried listing may report a skipped key twice.
    const skipped = new Map<string, SkippedKey>();
    this.early = (async () => {
      for await (const file of this.inner.list({ onSkipped: (k) => skipped.set(k.key, k) }))
        listing.files.push(file);
      listing.skipped = [...skipped.values()];
      return listing;
    })();
    // A run that fails before listing never asks for it: the error then belongs to nobody.
    this.early.catch(() => {});
  }

  async *list(options: ListOptions = {}): AsyncIterable<SourceFile> {
    const early = this.early;
    if (!early) {
      yield* this.inner.list(options);
      return;
    }
    this.early = null;
    const { files, skipped } = await abortable(early, options.signal);
    for (const key of skipped) options.onSkipped?.(key);
    yield* files;
  }

  async ready(): Promise<void> {
    await this.inner.ready?.();
  }

  warmUp(): void {
    this.inner.warmUp?.();
  }

  open(key: string, options?: { signal?: AbortSignal }): Promise<Readable> {
    return this.inner.open(key, options);
  }

  put(key: string, body: Buffer | string): Promise<void> {
    return this.inner.put(key, body);
  }

  putFile(key: string, localPath: string): Promise<void> {
    return this.inner.putFile(key, localPath);
  }

  async close(): Promise<void> {
    this.early = null;
    await this.inner.close();
  }
}
