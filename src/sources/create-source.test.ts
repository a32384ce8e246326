import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSource, LazyS3Source, parseS3Uri } from './create-source.js';
import { LocalSource } from './local-source.js';
import { createS3Client } from './s3-client.js';
import { S3Source } from './s3-source.js';

describe('parseS3Uri', () => {
  it('splits bucket and prefix, normalising the trailing slash', () => {
    expect(parseS3Uri('s3://bucket')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Uri('s3://bucket/')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Uri('s3://bucket/raw/billing')).toEqual({ bucket: 'bucket', prefix: 'raw/billing/' });
    expect(parseS3Uri('s3://bucket/raw/billing/')).toEqual({ bucket: 'bucket', prefix: 'raw/billing/' });
  });

  it('explains a missing bucket', () => {
    expect(() => parseS3Uri('s3://')).toThrow(/no bucket name/);
    expect(() => parseS3Uri('s3:///prefix')).toThrow(/no bucket name/);
    expect(() => parseS3Uri('/local/path')).toThrow(/not an S3 URI/);
  });
});

describe('createSource', () => {
  it('builds an S3Source for s3:// URIs', async () => {
    const source = createSource('s3://bucket/raw', { AWS_REGION: 'eu-west-1' });
    expect(source).toBeInstanceOf(LazyS3Source);
    expect(await (source as LazyS3Source).load()).toBeInstanceOf(S3Source);
    expect(source.uri).toBe('s3://bucket/raw/');
    await source.close();
  });

  it('builds a LocalSource of the resolved path otherwise', () => {
    const source = createSource('data/in');
    expect(source).toBeInstanceOf(LocalSource);
    expect(source.uri).toBe(path.resolve('data/in'));
    expect(createSource(pathToFileURL('/tmp/x').href).uri).toBe(path.resolve('/tmp/x'));
  });

  it('refuses schemes it does not know instead of treating them as folders', () => {
    expect(() => createSource('gs://bucket/x')).toThrow(/unsupported source/);
    expect(() => createSource('s3:/bucket/x')).toThrow(/unsupported source/);
    expect(() => createSource('')).toThrow(/empty source/);
  });
});

describe('createS3Client', () => {
  it('defaults to us-east-1 and virtual-hosted style against AWS', async () => {
    const client = createS3Client({});
    expect(await client.config.region()).toBe('us-east-1');
    expect(client.config.forcePathStyle).toBe(false);
    expect(client.config.requestChecksumCalculation).toBeDefined();
    expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    client.destroy();
  });

  it('uses path style for custom endpoints unless told otherwise', async () => {
    const base = { AWS_ENDPOINT_URL: 'http://127.0.0.1:9000', AWS_DEFAULT_REGION: 'eu-central-1' };
    const client = createS3Client(base);
    expect(await client.config.region()).toBe('eu-central-1');
    expect(client.config.forcePathStyle).toBe(true);
    const endpoint = await client.config.endpoint?.();
    expect(endpoint?.hostname).toBe('127.0.0.1');
    expect(endpoint?.port).toBe(9000);
    expect(createS3Client({ ...base, BILLING_S3_FORCE_PATH_STYLE: 'false' }).config.forcePathStyle).toBe(
      false,
    );
    expect(createS3Client({ BILLING_S3_FORCE_PATH_STYLE: 'true' }).config.forcePathStyle).toBe(true);
    expect(() => createS3Client({ BILLING_S3_FORCE_PATH_STYLE: 'yes please' })).toThrow(/true" or "false/);
  });

  it('prefers the S3-specific endpoint and AWS_REGION', async () => {
    const client = createS3Client({
      AWS_ENDPOINT_URL: 'http://generic:1',
      AWS_ENDPOINT_URL_S3: 'http://s3-only:2',
      AWS_REGION: 'ap-south-1',
      AWS_DEFAULT_REGION: 'eu-central-1',
    });
    expect((await client.config.endpoint?.())?.hostname).toBe('s3-only');
    expect(await client.config.region()).toBe('ap-south-1');
  });

  it('takes keys from the given environment', async () => {
    const client = createS3Client({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'SECRET' });
    const credentials = await client.config.credentials();
    expect(credentials.accessKeyId).toBe('AKID');
  });
});
