import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { PassThrough, Readable } from 'node:stream';
import type * as S3Api from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandOutput, S3Client } from '@aws-sdk/client-s3';
import { inspectKey } from './partition-key.js';
import { toSourceError } from './s3-errors.js';
import { type ListOptions, type Source, SourceError, type SourceFile } from './source.js';

/*
 * Required, not imported: an ESM import of the SDK's CommonJS bundle makes Node scan it for named
 * exports (cjs-module-lexer), tens of ms of every start that lists S3; require skips the scan.
 */
const { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } = createRequire(import.meta.url)(
  '@aws-sdk/client-s3',
) as typeof S3Api;

export interface S3SourceOptions {
  client: S3Client;
  bucket: string;
  /** Folder inside the bucket; `''` for the whole bucket. A missing trailing `/` is added. */
  prefix?: string;
  /** Destroy `client` on `close()`. Defaults to true: `createSource` builds one client per source. */
  ownsClient?: boolean;
}

/** Billing files under `s3://bucket/prefix/`, laid out as Hive partitions (`year=/month=/day=`). */
export class S3Source implements Source {
  readonly uri: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;

  constructor(options: S3SourceOptions) {
    if (!options.bucket) throw new SourceError('S3 source needs a bucket name', { transient: false });
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix ?? '');
    this.ownsClient = options.ownsClient ?? true;
    this.uri = `s3://${this.bucket}/${this.prefix}`;
  }

  async *list(options: ListOptions = {}): AsyncIterable<SourceFile> {
    let continuationToken: string | undefined;
    do {
      options.signal?.throwIfAborted();
      // No Delimiter: we need every leaf anyway, and s3rver returns no CommonPrefixes above the leaf level.
      const command = new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: this.prefix || undefined,
        ContinuationToken: continuationToken,
      });
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(command, { abortSignal: options.signal });
      } catch (error) {
        throw toSourceError(error, { bucket: this.bucket, action: `listing ${this.uri}` });
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(this.prefix)) continue;
        const key = object.Key.slice(this.prefix.length);
        const verdict = inspectKey(key, { datedNames: false });
        if (!verdict) continue;
        const size = object.Size ?? 0;
        const version = objectVersion(object.ETag, object.LastModified, size);
        if (verdict.kind === 'skipped') {
          options.onSkipped?.({ key, size, version, reason: verdict.reason });
          continue;
        }
        yield { key, size, version, partition: verdict.partition, gzip: verdict.gzip };
      }
      const next = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !next) {
        throw new SourceError(`listing ${this.uri} was truncated without a continuation token`, {
          transient: true,
        });
      }
      continuationToken = next;
    } while (continuationToken !== undefined);
  }

  async open(key: string, options: { signal?: AbortSignal } = {}): Promise<Readable> {
    const fullKey = this.fullKey(key);
    const context = { bucket: this.bucket, key: fullKey, action: `reading s3://${this.bucket}/${fullKey}` };
    let body: unknown;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: fullKey }), {
        abortSignal: options.signal,
      });
      body = response.Body;
    } catch (error) {
      throw toSourceError(error, context);
    }
    if (!(body instanceof Readable)) {
      throw new SourceError(`${context.action}: response body is not a Node stream`, { transient: false });
    }
    return mapStreamErrors(body, (error) => toSourceError(error, context), options.signal);
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const fullKey = this.fullKey(key);
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    await this.send(fullKey, bytes, bytes.length);
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const fullKey = this.fullKey(key);
    const { size } = await stat(localPath);
    // A known ContentLength lets the SDK stream the file in one PUT instead of buffering it.
    await this.send(fullKey, createReadStream(localPath), size);
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private async send(fullKey: string, body: Buffer | Readable, length: number): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: fullKey,
          Body: body,
          ContentLength: length,
          ContentType: fullKey.toLowerCase().endsWith('.gz') ? 'application/gzip' : 'text/csv',
        }),
      );
    } catch (error) {
      if (body instanceof Readable) body.destroy();
      throw toSourceError(error, {
        bucket: this.bucket,
        key: fullKey,
        action: `writing s3://${this.bucket}/${fullKey}`,
      });
    }
  }

  private fullKey(key: string): string {
    if (key === '' || key.startsWith('/')) {
      throw new SourceError(`invalid key "${key}": expected a path relative to ${this.uri}`, {
        transient: false,
      });
    }
    return this.prefix + key;
  }
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

function objectVersion(etag: string | undefined, lastModified: Date | undefined, size: number): string {
  const stripped = etag?.replace(/^"|"$/g, '');
  if (stripped) return stripped;
  // Some S3-compatible stores omit ETags in listings; modification time still detects replacement.
  return `${lastModified?.getTime() ?? 0}-${size}`;
}

/**
 * Mid-download failures (connection reset after the headers) surface as stream errors, not from `send`;
 * re-emitting them as SourceErrors lets the orchestrator decide on retries the same way for both.
 */
function mapStreamErrors(body: Readable, map: (error: unknown) => Error, signal?: AbortSignal): Readable {
  const out = new PassThrough();
  body.on('error', (error) => out.destroy(map(error)));
  // If the consumer gives up early, release the HTTP socket instead of leaving it half-read.
  out.on('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  body.pipe(out);
  if (signal) {
    const onAbort = () => out.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    out.on('close', () => signal.removeEventListener('abort', onAbort));
  }
  return out;
}
