import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalS3 } from '../../src/dev/local-s3.js';

/** One S3-compatible server for the whole run; tests isolate themselves with fresh buckets. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'billing-s3rver-'));
  const s3 = await startLocalS3({ directory });
  project.provide('s3Endpoint', s3.endpoint);
  return async () => {
    await s3.stop();
    await rm(directory, { recursive: true, force: true });
  };
}
