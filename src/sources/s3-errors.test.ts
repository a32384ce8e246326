import { describe, expect, it } from 'vitest';
import { toSourceError } from './s3-errors.js';
import { SourceError } from './source.js';

const context = { bucket: 'acme', key: 'raw/a.csv', action: 'reading s3://acme/raw/a.csv' };

function serviceError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} message`), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: status },
  });
}

function mapped(error: unknown): SourceError {
  const result = toSourceError(error, context);
  expect(result).toBeInstanceOf(SourceError);
  return result as SourceError;
}

describe('toSourceError', () => {
  it('explains a missing bucket', () => {
    const error = mapped(serviceError('NoSuchBucket', 404));
    expect(error.transient).toBe(false);
    expect(error.message).toBe('bucket "acme" does not exist (check BILLING_SOURCE)');
  });

  it('points at credentials for auth failures', () => {
    for (const code of ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']) {
      const error = mapped(serviceError(code, 403));
      expect(error.transient, code).toBe(false);
      expect(error.message, code).toMatch(/check AWS credentials/);
    }
  });

  it('names the missing key', () => {
    const error = mapped(serviceError('NoSuchKey', 404));
    expect(error.transient).toBe(false);
    expect(error.message).toContain('"raw/a.csv"');
  });

  it('treats throttling, 5xx and network failures as transient', () => {
    const cases: unknown[] = [
      serviceError('SlowDown', 503),
      serviceError('Throttling', 400),
      serviceError('InternalError', 500),
      serviceError('Whatever', 502),
      Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })], 'connect failed'),
    ];
    for (const error of cases) expect(mapped(error).transient, String(error)).toBe(true);
  });

  it('treats other client errors as permanent', () => {
    expect(mapped(serviceError('InvalidArgument', 400)).transient).toBe(false);
    expect(mapped(new TypeError('bug')).transient).toBe(false);
  });

  it('passes aborts and SourceErrors through', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(toSourceError(abort, context)).toBe(abort);
    const existing = new SourceError('x', { transient: true });
    expect(toSourceError(existing, context)).toBe(existing);
  });
});
