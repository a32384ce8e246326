import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';

const leftovers = new Set<string>();
let exitHookInstalled = false;

/**
 * A fresh folder under the OS temp dir. Inside a test it is removed when the test finishes; from a
 * hook (beforeAll) or at collection time it is removed when the worker exits.
 */
export async function tmpDir(prefix = 'billing-test'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${prefix.replace(/[^\w.-]+/g, '-')}-`));
  try {
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
  } catch {
    // onTestFinished only works while a test runs; fall back to cleaning up at worker exit.
    leftovers.add(dir);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const leftover of leftovers) rmSync(leftover, { recursive: true, force: true });
      });
    }
  }
  return dir;
}
