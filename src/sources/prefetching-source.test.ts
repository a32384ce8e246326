import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../../test/support/tmp.js';
import { LocalSource } from './local-source.js';
import { PrefetchingSource } from './prefetching-source.js';
import { type ListOptions, type SkippedKey, type Source, SourceError } from './source.js';

async function keys(source: Source, options?: ListOptions): Promise<string[]> {
  const found: string[] = [];
  for await (const file of source.list(options)) found.push(file.key);
  return found;
}

/** A source that counts its listings, over a real folder. */
function counting(root: string): { source: Source; listings: () => number } {
  const local = new LocalSource(root);
  let listings = 0;
  const source: Source = {
    uri: local.uri,
    list(options) {
      listings += 1;
      return local.list(options);
    },
    open: (key, options) => local.open(key, options),
    put: (key, body) => local.put(key, body),
    putFile: (key, file) => local.putFile(key, file),
    close: () => local.close(),
  };
  return { source, listings: () => listings };
}

describe('PrefetchingSource', () => {
  it('gives the first listing the one started early, and lists anew after it', async () => {
    const root = await tmpDir('prefetch');
    const { source: inner, listings } = counting(root);
    await inner.put('year=2025/month=04/day=23/a.csv', 'x\n');
    const source = new PrefetchingSource(inner);
    await source.prefetch();
    await source.prefetch();
    expect(listings()).toBe(1);
    // Let the early listing finish, then add a file: the first listing is the early snapshot.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await inner.put('year=2025/month=04/day=24/b.csv', 'y\n');
    expect(await keys(source)).toEqual(['year=2025/month=04/day=23/a.csv']);
    expect(listings()).toBe(1);
    expect(await keys(source)).toEqual([
      'year=2025/month=04/day=23/a.csv',
      'year=2025/month=04/day=24/b.csv',
    ]);
    expect(listings()).toBe(2);
  });

  it('lists as its source does when nothing was prefetched', async () => {
    const root = await tmpDir('prefetch');
    const { source: inner, listings } = counting(root);
    await inner.put('year=2025/month=04/day=23/a.csv', 'x\n');
    const source = new PrefetchingSource(inner);
    expect(await keys(source)).toEqual(['year=2025/month=04/day=23/a.csv']);
    expect(listings()).toBe(1);
  });

  it("replays the early listing's skipped keys to the listing that uses it", async () => {
    const root = await tmpDir('prefetch');
    const inner = new LocalSource(root);
    await inner.put('year=2025/month=02/day=30/a.csv', 'x\n');
    await inner.put('year=2025/month=02/day=28/b.csv', 'y\n');
    const source = new PrefetchingSource(inner);
    await source.prefetch();
    const skipped: SkippedKey[] = [];
    expect(await keys(source, { onSkipped: (k) => skipped.push(k) })).toEqual([
      'year=2025/month=02/day=28/b.csv',
    ]);
    expect(skipped.map((k) => k.key)).toEqual(['year=2025/month=02/day=30/a.csv']);
  });

  it("throws the early listing's error from the listing that uses it, and only there", async () => {
    const root = await tmpDir('prefetch');
    const missing = new PrefetchingSource(new LocalSource(path.join(root, 'nowhere')));
    await missing.prefetch();
    await expect(keys(missing)).rejects.toBeInstanceOf(SourceError);
    // Never used: no unhandled rejection (vitest fails the run on one).
    const unused = new PrefetchingSource(new LocalSource(path.join(root, 'nowhere-else')));
    await unused.prefetch();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await unused.close();
  });

  it('stops waiting for the early listing when the caller aborts', async () => {
    let release: () => void = () => {};
    const slow: Source = {
      uri: 'slow',
      async *list() {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        yield {
          key: 'year=2025/month=04/day=23/a.csv',
          size: 1,
          version: 'v',
          partition: '2025-04-23',
          gzip: false,
        };
      },
      open: () => Promise.reject(new Error('unused')),
      put: async () => {},
      putFile: async () => {},
      close: async () => {},
    };
    const source = new PrefetchingSource(slow);
    await source.prefetch();
    const controller = new AbortController();
    const listing = keys(source, { signal: controller.signal });
    controller.abort(new Error('canceled'));
    await expect(listing).rejects.toThrow('canceled');
    release();
  });
});
