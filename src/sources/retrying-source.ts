import type { Readable } from 'node:stream';
import { type ListOptions, type Source, SourceError, type SourceFile } from './source.js';

export interface RetryOptions {
  /** Extra attempts after the first for a transient error (0: fail on the first error). */
  retries: number;
  /** First backoff ceiling; each retry doubles it. */
  baseDelayMs: number;
  /** The ceiling never grows past this. */
  maxDelayMs: number;
  /** Told of every SourceError an attempt raised, retried or not; for metrics. */
  onError?: (error: SourceError) => void;
  /** Told before each wait; for logs and tests. */
  onRetry?: (info: { attempt: number; delayMs: number; error: SourceError; action: string }) => void;
  /** Injected in tests so backoff needs no wall-clock waits. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/**
 * Capped exponential backoff with full jitter: a uniformly random wait up to
 * min(cap, base·2^(attempt-1)). Jitter spreads retries of many clients hitting the same throttled
 * prefix, which a fixed schedule would synchronize.
 */
export function backoffDelay(attempt: number, options: RetryOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const isTransient = (error: unknown): error is SourceError => error instanceof SourceError && error.transient;

/**
 * Runs `fn`, retrying transient SourceErrors with backoff. Permanent errors (bad credentials, a
 * missing bucket) and aborts are thrown at once. After the last attempt the error says how many
 * attempts were made so a user knows retrying already happened.
 */
export async function withRetry<T>(
  action: string,
  options: RetryOptions,
  fn: (attempt: number) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const sleep = options.sleep ?? abortableSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      // An abort is the caller stopping, not the source failing.
      if (error instanceof SourceError && !signal?.aborted) options.onError?.(error);
      if (!isTransient(error) || signal?.aborted) throw error;
      if (attempt > options.retries) {
        if (options.retries === 0) throw error;
        throw new SourceError(`${error.message} (gave up after ${attempt} attempts)`, {
          cause: error,
          transient: true,
        });
      }
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.({ attempt, delayMs, error, action });
      await sleep(delayMs, signal);
    }
  }
}

/**
 * A Source whose operations survive transient errors (S3 5xx, throttling, timeouts, resets).
 * A listing that breaks midway restarts and skips the keys it already yielded: listings come in
 * key order, so nothing is yielded twice. A stream that fails after `open` returned is not retried
 * here; the ingest marks that file failed and the next run loads it.
 */
export class RetryingSource implements Source {
  readonly uri: string;

  constructor(
    private readonly inner: Source,
    private readonly options: RetryOptions,
  ) {
    this.uri = inner.uri;
  }

  async *list(options: ListOptions = {}): AsyncIterable<SourceFile> {
    let lastKey: string | null = null;
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const file of this.inner.list(options)) {
          if (lastKey !== null && file.key <= lastKey) continue;
          lastKey = file.key;
          yield file;
        }
        return;
      } catch (error) {
        if (error instanceof SourceError && !options.signal?.aborted) this.options.onError?.(error);
        if (!isTransient(error) || options.signal?.aborted) throw error;
        if (attempt > this.options.retries) {
          if (this.options.retries === 0) throw error;
          throw new SourceError(`${error.message} (gave up after ${attempt} attempts)`, {
            cause: error,
            transient: true,
          });
        }
        const delayMs = backoffDelay(attempt, this.options);
        this.options.onRetry?.({ attempt, delayMs, error, action: `listing ${this.uri}` });
        await (this.options.sleep ?? abortableSleep)(delayMs, options.signal);
      }
    }
  }

  open(key: string, options: { signal?: AbortSignal } = {}): Promise<Readable> {
    return withRetry(`reading ${key}`, this.options, () => this.inner.open(key, options), options.signal);
  }

  put(key: string, body: Buffer | string): Promise<void> {
    return withRetry(`writing ${key}`, this.options, () => this.inner.put(key, body));
  }

  putFile(key: string, localPath: string): Promise<void> {
    return withRetry(`writing ${key}`, this.options, () => this.inner.putFile(key, localPath));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async ready(): Promise<void> {
    await this.inner.ready?.();
  }

  warmUp(): void {
    this.inner.warmUp?.();
  }
}
