import { Worker } from 'node:worker_threads';
import { type SkippedKey, SourceError, type SourceFile } from './source.js';

/** What the thread needs to list `s3://bucket/prefix`, configured from `env` as createS3Client is. */
export interface ListingWorkerData {
  bucket: string;
  prefix: string;
  env: NodeJS.ProcessEnv;
  /**
   * `env` is this process's environment: the thread then uses it as its own process.env, which
   * the SDK's default credential chain reads (createS3Client treats another env differently).
   */
  isProcessEnv: boolean;
}

/** The thread's one answer: the listing, or what went wrong with it. */
export type ListingReply =
  | { files: SourceFile[]; skipped: SkippedKey[] }
  | { error: { message: string; source: boolean; transient: boolean } };

export interface WorkerListing {
  files: SourceFile[];
  skipped: SkippedKey[];
}

/**
 * Starts the worker thread's module, compiled (.js) or, when this runs from source (tsx: tests
 * and dev), through tsx's loader, which a worker thread does not inherit.
 */
function startThread(data: ListingWorkerData): Worker {
  const entry = new URL(
    `./s3-listing-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
    import.meta.url,
  );
  // The environment is given, not inherited: a thread copies the OS environment, which is not
  // process.env once a caller (tests) replaced it or set variables in it.
  const options = { workerData: data, env: { ...data.env } };
  if (entry.pathname.endsWith('.js')) return new Worker(entry, options);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/**
 * One S3 listing made in a worker thread, for a process's first listing: the thread loads the
 * SDK as soon as it starts, and sends the listing's requests only when `list` is called (so the
 * caller decides when the listing may begin, e.g. once it holds the warehouse). A thread that
 * cannot start or dies resolves to null: the caller then lists in its own thread, as without it.
 */
export class S3ListingWorker {
  private readonly worker: Worker;
  private readonly reply: Promise<ListingReply | null>;
  private asked = false;

  constructor(data: ListingWorkerData) {
    this.worker = startThread(data);
    // Until asked, the thread must not keep the process alive (a command that never lists).
    this.worker.unref();
    this.reply = new Promise((resolve) => {
      this.worker.once('message', (reply: ListingReply) => resolve(reply));
      this.worker.once('error', () => resolve(null));
      this.worker.once('exit', () => resolve(null));
    });
  }

  /** The listing, made now; null if the thread could not make it (not a listing error). */
  async list(signal?: AbortSignal): Promise<WorkerListing | null> {
    if (this.asked) return null;
    this.asked = true;
    const onAbort = () => void this.worker.terminate();
    try {
      signal?.throwIfAborted();
      this.worker.ref();
      this.worker.postMessage('list');
      signal?.addEventListener('abort', onAbort, { once: true });
      const reply = await this.reply;
      signal?.throwIfAborted();
      if (!reply) return null;
      if ('files' in reply) return { files: reply.files, skipped: reply.skipped };
      const { message, source, transient } = reply.error;
      throw source ? new SourceError(message, { transient }) : new Error(message);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      void this.worker.terminate();
    }
  }

  async close(): Promise<void> {
    this.asked = true;
    await this.worker.terminate();
  }
}
