import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { localS3Env } from '../../src/dev/local-s3.js';
import { createS3Client } from '../../src/sources/s3-client.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the s3rver started by test/support/global-setup.ts. */
    s3Endpoint: string;
  }
}

/** Environment for `createSource`/`createS3Client` that targets the shared local S3 server. */
export function s3Env(): Record<string, string> {
  return localS3Env(inject('s3Endpoint'));
}

let counter = 0;

/**
 * Creates an empty bucket no other test (or parallel worker) uses and returns `s3://bucket/`.
 * `name` is a readable hint; it is sanitised and made unique.
 */
export async function freshBucket(name = 'test'): Promise<string> {
  const hint = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 30);
  counter += 1;
  const bucket = `${hint || 'test'}-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
  const client = createS3Client(s3Env());
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return `s3://${bucket}/`;
}
