import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** A scratch folder under BILLING_HOME for the files handed to the warehouse's bulk loader. */
export async function withTempDir<T>(home: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(home, 'tmp', `${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
