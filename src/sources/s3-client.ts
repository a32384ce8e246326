import { createRequire } from 'node:module';
import type * as S3Api from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

// Required, not imported, like s3-source.ts: Node's named-export scan of the SDK costs every start.
const sdk = createRequire(import.meta.url)('@aws-sdk/client-s3') as typeof S3Api;

/**
 * An S3 client configured from environment variables, so the same code talks to AWS, MinIO or the
 * local s3rver used in tests:
 *
 * - region: `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1`
 * - endpoint: `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`
 * - path-style addressing: `BILLING_S3_FORCE_PATH_STYLE=true|false`, by default on whenever a custom
 *   endpoint is set (S3-compatible servers rarely have wildcard DNS for virtual-hosted buckets)
 * - credentials: the SDK's default chain (env, SSO, profiles, container/instance roles)
 * - `AWS_MAX_ATTEMPTS`: SDK-level retries (default 3) before a SourceError reaches the caller
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  const config: S3ClientConfig = {
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    forcePathStyle: parsePathStyle(env.BILLING_S3_FORCE_PATH_STYLE, endpoint !== undefined),
    // Recent SDKs send uploads as aws-chunked bodies with a trailing CRC32 by default; S3-compatible
    // servers such as s3rver store the chunk framing as part of the object, corrupting every file.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without timeouts a black-holed connection hangs an ingest forever instead of failing (transiently).
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000 },
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  const maxAttempts = Number(env.AWS_MAX_ATTEMPTS);
  if (Number.isInteger(maxAttempts) && maxAttempts > 0) config.maxAttempts = maxAttempts;

  // The SDK's default chain only reads process.env; when the caller hands us another environment
  // (tests, a config file), its keys must win or we would silently use someone else's identity.
  if (env !== process.env) {
    const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
    const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
    const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
    if (accessKeyId !== undefined && secretAccessKey !== undefined) {
      config.credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
    } else if (nonEmpty(env.AWS_PROFILE) !== undefined) {
      config.profile = nonEmpty(env.AWS_PROFILE);
    }
  }
  return new sdk.S3Client(config);
}

function parsePathStyle(value: string | undefined, customEndpoint: boolean): boolean {
  const normalized = value?.trim().toLowerCase();
  if (normalized === undefined || normalized === '') return customEndpoint;
  if (normalized === 'true' || normalized === '1') return true;
  if (normalized === 'false' || normalized === '0') return false;
  throw new Error(`BILLING_S3_FORCE_PATH_STYLE must be "true" or "false", got "${value}"`);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
