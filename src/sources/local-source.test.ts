import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../../test/support/tmp.js';
import { LocalSource } from './local-source.js';
import { SourceError, type SourceFile } from './source.js';

async function listAll(source: LocalSource): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  for await (const file of source.list()) files.push(file);
  return files;
}

describe('LocalSource', () => {
  it('lists billing files recursively, sorted, with relative keys', async () => {
    const root = await tmpDir('local-source');
    const source = new LocalSource(root);
    await source.put('year=2025/month=04/day=24/b.csv', 'x\n');
    await source.put('year=2025/month=04/day=23/a.csv.gz', Buffer.from([0x1f, 0x8b]));
    await source.put('year=2025/month=04/day=23/_SUCCESS', '');
    await source.put('year=2025/month=04/day=23/.DS_Store', '');
    await source.put('dropped/billing-2025-03-01.csv', 'y\n');
    await source.put('notes.txt', 'hello');

    const files = await listAll(source);
    expect(files.map((f) => [f.key, f.partition, f.gzip, f.size])).toEqual([
      ['dropped/billing-2025-03-01.csv', '2025-03-01', false, 2],
      ['year=2025/month=04/day=23/a.csv.gz', '2025-04-23', true, 2],
      ['year=2025/month=04/day=24/b.csv', '2025-04-24', false, 2],
    ]);
    expect(source.uri).toBe(root);
  });

  it('skips dated names when datedNames is off', async () => {
    const root = await tmpDir('local-source');
    await writeFile(path.join(root, 'billing-2025-03-01.csv'), 'y\n');
    expect(await listAll(new LocalSource(root, { datedNames: false }))).toEqual([]);
    expect(await listAll(new LocalSource(root))).toHaveLength(1);
  });

  it('changes the version on every rewrite, even of the same size with the mtime put back (cp -p)', async () => {
    const root = await tmpDir('local-source');
    const source = new LocalSource(root);
    const key = 'year=2025/month=04/day=23/a.csv';
    const file = path.join(root, key);
    await source.put(key, 'a,b\n1,2\n');
    const when = new Date((Math.floor(Date.now() / 1000) - 60) * 1000);
    await utimes(file, when, when);
    const [before] = await listAll(source);
    expect(before?.version).toMatch(new RegExp(`^${when.getTime()}-8-\\d+-\\d+$`));

    // In place (same inode), same size, and the mtime restored: only ctime tells them apart.
    await writeFile(file, 'a,b\n3,4\n');
    await utimes(file, when, when);
    const [sameSizeAndMtime] = await listAll(source);
    expect(sameSizeAndMtime?.size).toBe(8);
    expect(sameSizeAndMtime?.version.startsWith(`${when.getTime()}-8-`)).toBe(true);
    expect(sameSizeAndMtime?.version).not.toBe(before?.version);

    // Listing again without a change keeps the version: nothing is reloaded for nothing.
    const [unchanged] = await listAll(source);
    expect(unchanged?.version).toBe(sameSizeAndMtime?.version);

    await source.put(key, 'a,b\n3,4\n5,6\n');
    const [bigger] = await listAll(source);
    expect(bigger?.size).toBe(12);
    expect(new Set([before?.version, sameSizeAndMtime?.version, bigger?.version]).size).toBe(3);
  });

  it('opens, puts and copies files byte for byte', async () => {
    const root = await tmpDir('local-source');
    const other = await tmpDir('local-source-input');
    const source = new LocalSource(root);
    await source.put('deep/er/x.csv', 'héllo\n');
    expect(await text(await source.open('deep/er/x.csv'))).toBe('héllo\n');

    const input = path.join(other, 'in.csv.gz');
    const bytes = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00, 0x7f]);
    await writeFile(input, bytes);
    await source.putFile('year=2025/month=1/day=2/in.csv.gz', input);
    expect(await readFile(path.join(root, 'year=2025/month=1/day=2/in.csv.gz'))).toEqual(bytes);
  });

  it('fails permanently, naming the path, when the root folder is missing', async () => {
    const root = path.join(await tmpDir('local-source'), 'nope');
    const error = await listAll(new LocalSource(root)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).transient).toBe(false);
    expect((error as SourceError).message).toContain(root);
    expect((error as SourceError).message).toMatch(/does not exist/);
  });

  it('rejects a missing file and keys escaping the root', async () => {
    const root = await tmpDir('local-source');
    await mkdir(path.join(root, 'a'));
    const source = new LocalSource(root);
    await expect(source.open('a/missing.csv')).rejects.toMatchObject({
      name: 'SourceError',
      transient: false,
    });
    await expect(source.open('../etc/passwd')).rejects.toThrow(/invalid key/);
    await expect(source.put('/abs.csv', 'x')).rejects.toThrow(/invalid key/);
  });
});
