import { SourceError } from './source.js';

/** What was being attempted, so the message can name the bucket/key the user has to look at. */
export interface S3ErrorContext {
  bucket: string;
  /** Full object key (prefix included), when the failure concerns one object. */
  key?: string;
  /** e.g. `listing s3://bucket/prefix/` or `reading s3://bucket/key`. */
  action: string;
}

const CREDENTIAL_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidToken',
  'CredentialsProviderError',
  'AllAccessDisabled',
]);

const REGION_CODES = new Set([
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'IllegalLocationConstraintException',
]);

const TRANSIENT_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
]);

// DNS failures are included: on a flaky network ENOTFOUND is as likely as EAI_AGAIN.
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Turns whatever the SDK (or the socket under it) threw into a SourceError whose `transient` flag tells
 * the orchestrator whether retrying can help and whose message tells a human what to fix.
 * Abort errors pass through untouched: cancelling is the caller's decision, not a source failure.
 */
export function toSourceError(error: unknown, context: S3ErrorContext): Error {
  if (error instanceof SourceError) return error;
  if (isAbort(error)) return error as Error;

  const code = errorCode(error);
  const status = httpStatus(error);
  const detail = error instanceof Error && error.message ? error.message : String(code ?? error);
  const permanent = (message: string) => new SourceError(message, { cause: error, transient: false });
  const transient = (message: string) => new SourceError(message, { cause: error, transient: true });

  if (code === 'NoSuchBucket')
    return permanent(`bucket "${context.bucket}" does not exist (check BILLING_SOURCE)`);
  if (code !== undefined && CREDENTIAL_CODES.has(code)) {
    return permanent(
      `${context.action} failed with ${code}: check AWS credentials (AWS_PROFILE / AWS_ACCESS_KEY_ID / ` +
        `AWS_SECRET_ACCESS_KEY) and that they may access bucket "${context.bucket}" (${detail})`,
    );
  }
  if (code === 'NoSuchKey' || (code === 'NotFound' && context.key !== undefined)) {
    return permanent(`object "${context.key ?? '?'}" does not exist in bucket "${context.bucket}"`);
  }
  if (code !== undefined && REGION_CODES.has(code)) {
    return permanent(
      `${context.action} failed with ${code}: check AWS_REGION for bucket "${context.bucket}"`,
    );
  }
  if (code !== undefined && (TRANSIENT_CODES.has(code) || TRANSIENT_NETWORK_CODES.has(code))) {
    return transient(`${context.action} failed (${code}), retry may help: ${detail}`);
  }
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) {
    return transient(`${context.action} failed with HTTP ${status}, retry may help: ${detail}`);
  }
  if (status !== undefined) {
    return permanent(`${context.action} failed with HTTP ${status}${code ? ` ${code}` : ''}: ${detail}`);
  }
  // The SDK marks errors it knows are retryable (clock skew, throttling it recognised, …).
  if (typeof error === 'object' && error !== null && '$retryable' in error && error.$retryable) {
    return transient(`${context.action} failed, retry may help: ${detail}`);
  }
  return permanent(`${context.action} failed: ${detail}`);
}

/** The S3 error code or Node/libuv error code, looking inside AggregateError from dual-stack connects. */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as {
    name?: unknown;
    code?: unknown;
    Code?: unknown;
    errors?: unknown;
    cause?: unknown;
  };
  if (typeof candidate.Code === 'string') return candidate.Code;
  if (typeof candidate.code === 'string') return candidate.code;
  if (Array.isArray(candidate.errors)) {
    for (const inner of candidate.errors) {
      const code = errorCode(inner);
      if (code !== undefined) return code;
    }
  }
  if (
    typeof candidate.name === 'string' &&
    candidate.name !== 'Error' &&
    candidate.name !== 'AggregateError'
  ) {
    // SDK service exceptions carry the S3 code as `name`; unknown ones are `S3ServiceException`/`Unknown`.
    if (candidate.name !== 'S3ServiceException' && candidate.name !== 'Unknown') return candidate.name;
  }
  if (candidate.cause !== undefined && candidate.cause !== error) return errorCode(candidate.cause);
  return undefined;
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function isAbort(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || (error as { code?: unknown }).code === 'ABORT_ERR')
  );
}
