import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalSource } from './local-source.js';
import { createS3Client } from './s3-client.js';
import { S3Source } from './s3-source.js';
import { type Source, SourceError } from './source.js';

/**
 * The source behind a `BILLING_SOURCE`-style location: `s3://bucket[/prefix]` reads S3 (configured
 * from `env`, see `createS3Client`), `file://…` or a plain path reads a local folder.
 */
export function createSource(uri: string, env: NodeJS.ProcessEnv = process.env): Source {
  if (/^s3:\/\//i.test(uri)) {
    const { bucket, prefix } = parseS3Uri(uri);
    return new S3Source({ client: createS3Client(env), bucket, prefix, ownsClient: true });
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
