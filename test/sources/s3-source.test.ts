import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createSource } from '../../src/sources/create-source.js';
import { type Source, SourceError, type SourceFile } from '../../src/sources/source.js';
import { freshBucket, s3Env } from '../support/s3.js';
import { tmpDir } from '../support/tmp.js';

const opened: Source[] = [];
function source(uri: string, env: NodeJS.ProcessEnv = s3Env()): Source {
  const created = createSource(uri, env);
  opened.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function listAll(from: Source): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  for await (const file of from.list()) files.push(file);
  return files;
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

describe('S3Source (local s3rver)', () => {
  it('lists more than 1,000 keys across pages, each exactly once', async () => {
    const root = source(await freshBucket('many'));
    const keys = Array.from({ length: 1205 }, (_, i) => {
      const day = (i % 28) + 1;
      return `year=2025/month=03/day=${String(day).padStart(2, '0')}/part-${String(i).padStart(5, '0')}.csv`;
    });
    await mapLimit(keys, 32, (key) => root.put(key, `n\n${key}\n`));
    await root.put('year=2025/month=03/day=01/_SUCCESS', '');

    const files = await listAll(root);
    expect(files).toHaveLength(1205);
    expect(new Set(files.map((f) => f.key)).size).toBe(1205);
    expect(files.map((f) => f.key)).toEqual([...keys].sort());
    const first = files.find((f) => f.key.endsWith('part-00000.csv'));
    expect(first).toMatchObject({ partition: '2025-03-01', gzip: false, size: `n\n${first?.key}\n`.length });
  });

  it('only sees keys under its prefix, relative to it', async () => {
    const bucketUri = await freshBucket('prefix');
    const bucket = source(bucketUri);
    await bucket.put('raw/year=2025/month=4/day=23/a.csv', 'a\n');
    await bucket.put('raw/year=2025/month=04/day=24/b.csv.gz', gzipSync('b\n'));
    await bucket.put('rawer/year=2025/month=04/day=23/c.csv', 'c\n');
    await bucket.put('other/year=2025/month=04/day=23/d.csv', 'd\n');
    await bucket.put('raw/notes.txt', 'not data');
    // Dated names only count in local folders; S3 layouts must be Hive.
    await bucket.put('raw/billing-2025-04-23.csv', 'e\n');

    const raw = source(`${bucketUri}raw`);
    expect(raw.uri).toBe(`${bucketUri}raw/`);
    const files = await listAll(raw);
    expect(files.map((f) => [f.key, f.partition, f.gzip])).toEqual([
      ['year=2025/month=04/day=24/b.csv.gz', '2025-04-24', true],
      ['year=2025/month=4/day=23/a.csv', '2025-04-23', false],
    ]);
    expect((await buffer(await raw.open('year=2025/month=4/day=23/a.csv'))).toString()).toBe('a\n');

    await raw.put('year=2025/month=04/day=25/f.csv', 'f\n');
    expect((await listAll(bucket)).map((f) => f.key)).toContain('raw/year=2025/month=04/day=25/f.csv');
  });

  it('changes the version when an object is re-uploaded', async () => {
    const root = source(await freshBucket('etag'));
    const key = 'year=2025/month=04/day=23/a.csv';
    await root.put(key, 'a,b\n1,2\n');
    const [before] = await listAll(root);
    await root.put(key, 'a,b\n3,4\n');
    const [after] = await listAll(root);
    expect(before?.version).toMatch(/^[0-9a-f]{32}$/);
    expect(after?.version).toMatch(/^[0-9a-f]{32}$/);
    expect(after?.version).not.toBe(before?.version);
  });

  it('round-trips bytes exactly through put and the streamed putFile', async () => {
    const root = source(await freshBucket('bytes'));
    const dir = await tmpDir('s3-bytes');
    const csv = Buffer.from('id,amount,note\n1,12.50,"héllo, wörld"\r\n2,0.01,\u{1F4B8}\n');
    // Large enough to span several chunks, where aws-chunked framing would show up.
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'x,1\n');
    const gz = gzipSync(Buffer.concat([csv, big]));
    const gzPath = path.join(dir, 'in.csv.gz');
    const csvPath = path.join(dir, 'in.csv');
    await writeFile(gzPath, gz);
    await writeFile(csvPath, csv);

    await root.put('year=2025/month=04/day=23/put.csv', csv);
    await root.put('year=2025/month=04/day=23/string.csv', csv.toString('utf8'));
    await root.putFile('year=2025/month=04/day=23/file.csv', csvPath);
    await root.putFile('year=2025/month=04/day=23/file.csv.gz', gzPath);

    const read = async (key: string) => buffer(await root.open(key));
    expect(await read('year=2025/month=04/day=23/put.csv')).toEqual(csv);
    expect(await read('year=2025/month=04/day=23/string.csv')).toEqual(csv);
    expect(await read('year=2025/month=04/day=23/file.csv')).toEqual(csv);
    expect((await read('year=2025/month=04/day=23/file.csv.gz')).equals(gz)).toBe(true);

    const listed = await listAll(root);
    expect(listed.find((f) => f.key.endsWith('file.csv.gz'))).toMatchObject({ size: gz.length, gzip: true });
  });

  it('fails permanently with an actionable message for a missing bucket', async () => {
    const missing = source('s3://no-such-bucket-for-billing/raw/');
    const error = await listAll(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error).toMatchObject({
      transient: false,
      message: 'bucket "no-such-bucket-for-billing" does not exist (check BILLING_SOURCE)',
    });
  });

  it('names the key when an object is missing', async () => {
    const uri = await freshBucket('nokey');
    const error = await source(`${uri}raw/`)
      .open('year=2025/month=04/day=23/gone.csv')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SourceError', transient: false });
    expect((error as Error).message).toContain('raw/year=2025/month=04/day=23/gone.csv');
  });

  it('points at credentials when the keys are wrong', async () => {
    const uri = await freshBucket('creds');
    const env = { ...s3Env(), AWS_ACCESS_KEY_ID: 'WRONG', AWS_SECRET_ACCESS_KEY: 'WRONG' };
    const error = await listAll(source(uri, env)).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'SourceError', transient: false });
    expect((error as Error).message).toMatch(/check AWS credentials/);
  });

  it('lets a caller abort a listing without it looking like a source failure', async () => {
    const root = source(await freshBucket('abort'));
    const controller = new AbortController();
    controller.abort();
    const error = await (async () => {
      for await (const _ of root.list({ signal: controller.signal })) {
        // never reached
      }
    })().catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(SourceError);
    expect(error).toMatchObject({ name: 'AbortError' });
  });

  it('reports a refused connection as transient', async () => {
    const port = await closedPort();
    const env = { ...s3Env(), AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_MAX_ATTEMPTS: '1' };
    const error = await listAll(source('s3://any-bucket/', env)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error).toMatchObject({ transient: true });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});

/** A port nothing listens on: bind an ephemeral one, then release it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
