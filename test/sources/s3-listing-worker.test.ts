import { afterEach, describe, expect, it } from 'vitest';
import { createSource } from '../../src/sources/create-source.js';
import { type SkippedKey, type Source, SourceError, type SourceFile } from '../../src/sources/source.js';
import { freshBucket, s3Env } from '../support/s3.js';

/*
 * A warmed S3 source (warmUp, the CLI's materialize) makes its first listing in a worker thread:
 * the same files, skipped keys and errors as a listing in this thread (real s3rver).
 */
const opened: Source[] = [];
function source(uri: string, env: NodeJS.ProcessEnv = s3Env()): Source {
  const created = createSource(uri, env);
  opened.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function listAll(from: Source, signal?: AbortSignal) {
  const files: SourceFile[] = [];
  const skipped: SkippedKey[] = [];
  for await (const file of from.list({ signal, onSkipped: (k) => skipped.push(k) })) files.push(file);
  return { files, skipped };
}

async function listError(from: Source): Promise<unknown> {
  try {
    await listAll(from);
  } catch (error) {
    return error;
  }
  throw new Error('the listing did not fail');
}

describe('S3 listing in a worker thread (warmUp)', () => {
  it('lists exactly what this thread lists, across pages, with skipped keys; later listings are its own', async () => {
    const uri = await freshBucket('worker-list');
    const writer = source(uri);
    const keys = Array.from(
      { length: 1010 },
      (_, i) => `year=2025/month=03/day=${String((i % 28) + 1).padStart(2, '0')}/p-${i}.csv`,
    );
    for (let i = 0; i < keys.length; i += 50)
      await Promise.all(keys.slice(i, i + 50).map((k) => writer.put(k, `n\n${k}\n`)));
    await writer.put('year=2025/month=02/day=30/bad.csv', 'n\n1\n');
    await writer.put('year=2025/month=03/day=01/_SUCCESS', '');

    const expected = await listAll(source(uri));
    expect(expected.files).toHaveLength(1010);
    expect(expected.skipped.map((k) => k.key)).toEqual(['year=2025/month=02/day=30/bad.csv']);

    const warmed = source(uri);
    warmed.warmUp?.();
    // Nothing is listed before list() is called: a file written now is in the listing.
    await writer.put('year=2025/month=03/day=02/late.csv', 'n\n1\n');
    const inWorker = await listAll(warmed);
    const late = await listAll(source(uri));
    expect(inWorker).toEqual(late);
    expect(inWorker.files).toHaveLength(1011);

    // The thread makes one listing: the next one is made here and sees newer files too.
    await writer.put('year=2025/month=03/day=03/later.csv', 'n\n1\n');
    expect((await listAll(warmed)).files).toHaveLength(1012);
  });

  it('fails as a listing in this thread fails (same message, not transient)', async () => {
    const uri = 's3://no-such-bucket-worker/';
    const env = { ...s3Env(), AWS_MAX_ATTEMPTS: '1' };
    const here = await listError(source(uri, env));
    const warmed = source(uri, env);
    warmed.warmUp?.();
    const there = await listError(warmed);
    expect(there).toBeInstanceOf(SourceError);
    expect(here).toBeInstanceOf(SourceError);
    expect((there as SourceError).message).toBe((here as SourceError).message);
    expect((there as SourceError).transient).toBe((here as SourceError).transient);
    expect((there as SourceError).message).toMatch(/no-such-bucket-worker/);
  });

  it('stops at an abort, and a source warmed but never listed closes cleanly', async () => {
    const uri = await freshBucket('worker-abort');
    const warmed = source(uri);
    warmed.warmUp?.();
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(listAll(warmed, controller.signal)).rejects.toThrow('stop');

    const unused = source(uri);
    unused.warmUp?.();
    await unused.close();
  });
});
