import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { LocalSource } from './local-source.js';
import { S3ListingWorker } from './s3-listing-worker.js';
import { type ListOptions, type Source, SourceError, type SourceFile } from './source.js';

/**
 * An S3 source whose AWS SDK loads on first use: the SDK takes longer to load than many a whole
 * command, and a process that builds a source it never reads (a local-folder run's FX file, a
 * command that fails first) should not pay for it.
 */
export class LazyS3Source implements Source {
  readonly uri: string;
  private loaded: Promise<Source> | null = null;
  /** The first listing's thread, once warmUp started it and until list takes it. */
  private worker: S3ListingWorker | null = null;

  constructor(
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.uri = `s3://${bucket}/${prefix}`;
  }

  /** The S3Source itself, loaded with the SDK on first use. */
  load(): Promise<Source> {
    this.loaded ??= Promise.all([import('./s3-source.js'), import('./s3-client.js')]).then(
      ([{ S3Source }, { createS3Client }]) =>
        new S3Source({
          client: createS3Client(this.env),
          bucket: this.bucket,
          prefix: this.prefix,
          ownsClient: true,
        }),
    );
    return this.loaded;
  }

  /**
   * Starts the thread the first listing will be made in (s3-listing-worker.ts): it loads the SDK
   * there, off this thread, and sends nothing until `list` is called.
   */
  warmUp(): void {
    if (this.worker || this.loaded) return;
    this.worker = new S3ListingWorker({
      bucket: this.bucket,
      prefix: this.prefix,
      env: { ...this.env },
      isProcessEnv: this.env === process.env,
    });
  }

  async ready(): Promise<void> {
    // With a warm thread the first request goes out from there: nothing to load here yet.
    if (!this.worker) await this.load();
  }

  async *list(options: ListOptions = {}): AsyncIterable<SourceFile> {
    const worker = this.worker;
    this.worker = null;
    const listing = await worker?.list(options.signal);
    if (listing) {
      for (const key of listing.skipped) options.onSkipped?.(key);
      yield* listing.files;
      return;
    }
    yield* (await this.load()).list(options);
  }

  async open(key: string, options?: { signal?: AbortSignal }): Promise<Readable> {
    return (await this.load()).open(key, options);
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    return (await this.load()).put(key, body);
  }

  async putFile(key: string, localPath: string): Promise<void> {
    return (await this.load()).putFile(key, localPath);
  }

  async close(): Promise<void> {
    // A thread warmed for a listing nobody asked for (the run failed first, or never listed).
    await this.worker?.close();
    this.worker = null;
    // Never used: no client was made, nothing to close.
    if (this.loaded) await (await this.loaded.catch(() => null))?.close();
  }
}

/**
 * The source behind a `BILLING_SOURCE`-style location: `s3://bucket[/prefix]` reads S3 (configured
 * from `env`, see `createS3Client`), `file://…` or a plain path reads a local folder.
 */
export function createSource(uri: string, env: NodeJS.ProcessEnv = process.env): Source {
  if (/^s3:\/\//i.test(uri)) {
    const { bucket, prefix } = parseS3Uri(uri);
    return new LazyS3Source(bucket, prefix, env);
  }
  if (/^file:\/\//i.test(uri)) return new LocalSource(fileURLToPath(uri), { datedNames: true });
  // `gs://…` or a typo like `s3:/bucket` would otherwise become a puzzling "folder does not exist".
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri) ?? /^(s3):/i.exec(uri);
  if (scheme) {
    throw new SourceError(`unsupported source "${uri}": expected s3://bucket/prefix/ or a local folder`, {
      transient: false,
    });
  }
  if (uri.trim() === '') {
    throw new SourceError('empty source location: expected s3://bucket/prefix/ or a local folder', {
      transient: false,
    });
  }
  return new LocalSource(path.resolve(uri), { datedNames: true });
}

/** Splits `s3://bucket/some/prefix` into `{ bucket, prefix: 'some/prefix/' }` (prefix `''` for a bucket root). */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(uri.trim());
  if (!match)
    throw new SourceError(`"${uri}" is not an S3 URI (expected s3://bucket/prefix/)`, { transient: false });
  const bucket = match[1] ?? '';
  if (bucket === '') {
    throw new SourceError(`"${uri}" has no bucket name (expected s3://bucket/prefix/)`, { transient: false });
  }
  if (!/^[a-zA-Z0-9._-]+$/.test(bucket)) {
    throw new SourceError(`"${uri}": "${bucket}" is not a valid bucket name`, { transient: false });
  }
  const rest = (match[2] ?? '').replace(/^\/+/, '');
  const prefix = rest === '' || rest.endsWith('/') ? rest : `${rest}/`;
  return { bucket, prefix };
}
