import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../sources/s3-client.js';

export interface LocalS3 {
  /** e.g. `http://127.0.0.1:43121`. */
  endpoint: string;
  port: number;
  /** Environment that points `createS3Client`/`createSource` at this server. */
  env: Record<string, string>;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 20_000;

/** s3rver's built-in account; it rejects requests signed with any other key. */
export function localS3Env(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    BILLING_S3_FORCE_PATH_STYLE: 'true',
  };
}

/**
 * Starts an S3-compatible server (s3rver) on 127.0.0.1 storing objects in `directory`, in a child
 * process that exits with us. `port` 0 (the default) picks a free port.
 */
export async function startLocalS3(options: { directory: string; port?: number }): Promise<LocalS3> {
  const directory = path.resolve(options.directory);
  await mkdir(directory, { recursive: true });
  const child = spawn(
    process.execPath,
    [...serverArgs(), JSON.stringify({ directory, port: options.port ?? 0 })],
    {
      // stdin stays a pipe on purpose: the child exits when it closes, i.e. when we die.
      stdio: ['pipe', 'pipe', 'inherit'],
      // Inherited NODE_OPTIONS (e.g. vitest's or a debugger's) could load hooks that do not belong here.
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );

  let port: number;
  try {
    port = await readPort(child);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // A caller that forgets stop() must not be kept alive by the child; the stdin pipe still ends it.
  child.unref();
  for (const stream of [child.stdin, child.stdout]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
  child.stdout?.resume();

  const endpoint = `http://127.0.0.1:${port}`;
  const env = localS3Env(endpoint);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  return {
    endpoint,
    port,
    env,
    async createBucket(name: string): Promise<void> {
      const client = createS3Client(env);
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } catch (error) {
        // The server's folder outlives it (the demo run again): a bucket that exists is what we want.
        const code = (error as { name?: string }).name;
        if (code !== 'BucketAlreadyExists' && code !== 'BucketAlreadyOwnedByYou') throw error;
      } finally {
        client.destroy();
      }
    },
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) {
        // Keep our event loop alive until the child is really gone, or a script could exit mid-stop.
        child.ref();
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      child.stdin?.destroy();
    },
  };
}

/** Node arguments to run the server entry point from source (via tsx) or from the compiled `dist/`. */
function serverArgs(): string[] {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const entry = path.join(path.dirname(here), fromSource ? 'local-s3-server.ts' : 'local-s3-server.js');
  const args = ['--openssl-legacy-provider'];
  if (fromSource) {
    // Resolved to a file URL so the child finds tsx whatever its working directory is.
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    args.push('--import', tsx);
  }
  args.push(entry);
  return args;
}

function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      cleanup();
      try {
        const message = JSON.parse(buffered.slice(0, newline)) as { port?: unknown };
        if (typeof message.port !== 'number') throw new Error('no port in message');
        resolve(message.port);
      } catch {
        reject(
          new Error(`local S3 server printed an unexpected startup line: ${buffered.slice(0, newline)}`),
        );
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`local S3 server exited during startup (code ${code}, signal ${signal}); see stderr`));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new Error(`cannot start local S3 server: ${error.message}`, { cause: error }));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`local S3 server did not report a port within ${STARTUP_TIMEOUT_MS} ms`));
    }, STARTUP_TIMEOUT_MS);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}
