import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isNoSpaceError, NoSpaceError } from '../warehouse/duckdb/duckdb-errors.js';

/** A scratch folder under BILLING_HOME for the files handed to the warehouse's bulk loader. */
export async function withTempDir<T>(home: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(home, 'tmp', `${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    if (isNoSpaceError(error)) throw new NoSpaceError(dir, { cause: error });
    throw error;
  }
  try {
    return await fn(dir);
  } finally {
    // fn must not leave work running in the folder (see ingest in billing-events.ts): it goes now.
    await rm(dir, { recursive: true, force: true });
  }
}
