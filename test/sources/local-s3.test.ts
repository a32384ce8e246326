import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startLocalS3 } from '../../src/dev/local-s3.js';
import { createSource } from '../../src/sources/create-source.js';
import { tmpDir } from '../support/tmp.js';

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilClosed(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await canConnect(port))) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('startLocalS3', () => {
  it('serves S3 on a random port and frees it on stop', async () => {
    const s3 = await startLocalS3({ directory: await tmpDir('local-s3') });
    try {
      expect(s3.endpoint).toBe(`http://127.0.0.1:${s3.port}`);
      expect(s3.env).toEqual({
        AWS_ENDPOINT_URL: s3.endpoint,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_REGION: 'us-east-1',
        BILLING_S3_FORCE_PATH_STYLE: 'true',
      });
      await s3.createBucket('lifecycle');
      const source = createSource('s3://lifecycle/', s3.env);
      await source.put('year=2025/month=01/day=02/a.csv', 'a\n');
      const keys: string[] = [];
      for await (const file of source.list()) keys.push(file.key);
      expect(keys).toEqual(['year=2025/month=01/day=02/a.csv']);
      await source.close();
    } finally {
      await s3.stop();
    }
    expect(await canConnect(s3.port)).toBe(false);
  });

  it('keeps buckets and objects across restarts on the same folder, and creating a bucket again is a no-op', async () => {
    const directory = await tmpDir('local-s3-restart');
    const first = await startLocalS3({ directory });
    try {
      await first.createBucket('again');
      const source = createSource('s3://again/', first.env);
      await source.put('year=2025/month=01/day=02/a.csv', 'a\n');
      await source.close();
    } finally {
      await first.stop();
    }
    const second = await startLocalS3({ directory });
    try {
      await second.createBucket('again');
      const source = createSource('s3://again/', second.env);
      const keys: string[] = [];
      for await (const file of source.list()) keys.push(file.key);
      expect(keys).toEqual(['year=2025/month=01/day=02/a.csv']);
      await source.close();
    } finally {
      await second.stop();
    }
  });

  it('exits when the process that started it is killed', async () => {
    const dir = await tmpDir('local-s3-orphan');
    const script = path.join(dir, 'parent.mts');
    const module = pathToFileURL(path.resolve('src/dev/local-s3.ts')).href;
    await writeFile(
      script,
      `import { startLocalS3 } from ${JSON.stringify(module)};\n` +
        `const s3 = await startLocalS3({ directory: ${JSON.stringify(path.join(dir, 'data'))} });\n` +
        'console.log(JSON.stringify({ port: s3.port }));\n' +
        'setInterval(() => {}, 1000);\n',
    );
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const parent = spawn(process.execPath, ['--import', tsx, script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve((JSON.parse(line) as { port: number }).port);
      });
      parent.once('exit', (code) => reject(new Error(`parent exited early with ${code}`)));
    });
    expect(await canConnect(port)).toBe(true);

    parent.kill('SIGKILL');
    expect(await waitUntilClosed(port, 10_000)).toBe(true);
  });
});
