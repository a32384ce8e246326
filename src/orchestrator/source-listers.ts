import { createRequire } from 'node:module';
import type * as S3Api from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandOutput, S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../sources/create-source.js';
import { classifyKey } from '../sources/partition-key.js';
import { type RetryOptions, withRetry } from '../sources/retrying-source.js';
import { toSourceError } from '../sources/s3-errors.js';
import { type Source, SourceError, type SourceFile } from '../sources/source.js';

// Required, not imported, like sources/s3-source.ts: Node's named-export scan of the SDK is slow.
const { ListObjectsV2Command } = createRequire(import.meta.url)('@aws-sdk/client-s3') as typeof S3Api;

/** How a sensor sees a source: everything (the reconcile), or only some partition folders (cheap). */
export interface FileLister {
  readonly uri: string;
  listAll(signal: AbortSignal): Promise<SourceFile[]>;
  /**
   * Files below these folders (relative to the source root, each ending in `/`). Absent when the
   * source cannot narrow a listing; the sensor then lists everything every tick.
   */
  listFolders?(folders: readonly string[], signal: AbortSignal): Promise<SourceFile[]>;
}

/** Any Source, listed whole: right for local folders, where a walk is cheap. */
export function sourceLister(source: Source): FileLister {
  return {
    uri: source.uri,
    async listAll(signal) {
      const files: SourceFile[] = [];
      for await (const file of source.list({ signal })) files.push(file);
      return files;
    },
  };
}

function objectVersion(etag: string | undefined, lastModified: Date | undefined, size: number): string {
  const stripped = etag?.replace(/^"|"$/g, '');
  return stripped || `${lastModified?.getTime() ?? 0}-${size}`;
}

/**
 * S3 listings by prefix: `ListObjectsV2` with the prefix of one partition folder returns just
 * that folder's objects in one request however big the bucket is. Versions are ETags, the same
 * as the pipeline's `billing_files`, so a corrected re-upload shows up as a changed version.
 */
export function s3Lister(options: { client: S3Client; uri: string; retry: RetryOptions }): FileLister {
  const { bucket, prefix } = parseS3Uri(options.uri);
  const uri = `s3://${bucket}/${prefix}`;

  async function listPrefix(sub: string, signal: AbortSignal, into: SourceFile[]): Promise<void> {
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await withRetry(
        `listing ${uri}${sub}`,
        options.retry,
        async () => {
          try {
            return await options.client.send(
              new ListObjectsV2Command({
                Bucket: bucket,
                Prefix: prefix + sub || undefined,
                ContinuationToken: token,
              }),
              { abortSignal: signal },
            );
          } catch (error) {
            throw toSourceError(error, { bucket, action: `listing ${uri}${sub}` });
          }
        },
        signal,
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(prefix)) continue;
        const key = object.Key.slice(prefix.length);
        const kind = classifyKey(key, { datedNames: false });
        if (!kind) continue;
        const size = object.Size ?? 0;
        into.push({ key, size, version: objectVersion(object.ETag, object.LastModified, size), ...kind });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) {
        throw new SourceError(`listing ${uri}${sub} was truncated without a continuation token`, {
          transient: true,
        });
      }
    } while (token !== undefined);
  }

  return {
    uri,
    async listAll(signal) {
      const files: SourceFile[] = [];
      await listPrefix('', signal, files);
      return files;
    },
    async listFolders(folders, signal) {
      const parts = await Promise.all(
        folders.map(async (folder) => {
          const files: SourceFile[] = [];
          await listPrefix(folder, signal, files);
          return files;
        }),
      );
      return parts.flat();
    },
  };
}
