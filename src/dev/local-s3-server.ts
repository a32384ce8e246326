/**
 * Child-process entry point for `startLocalS3`: runs s3rver and prints `{"port":N}` on stdout once it
 * listens. Run in its own process because s3rver needs `--openssl-legacy-provider` (its ListObjectsV2
 * continuation tokens are DES-encrypted) and that flag cannot be turned on inside a running process.
 *
 * Usage: node --openssl-legacy-provider local-s3-server.js '{"directory":"/tmp/s3","port":0}'
 */
import { createRequire } from 'node:module';

interface S3rverInstance {
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
}) => S3rverInstance;

// s3rver is CommonJS without type declarations.
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

const config = JSON.parse(process.argv[2] ?? '{}') as { directory?: string; port?: number };
if (!config.directory) {
  process.stderr.write('local-s3-server: missing {"directory": …} argument\n');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: config.port ?? 0,
  directory: config.directory,
  silent: true,
});
const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Closing waits for keep-alive sockets from clients that are gone; never let that keep us alive.
  setTimeout(() => process.exit(code), 2_000).unref();
  await server.close().catch(() => {});
  process.exit(code);
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

// The parent holds our stdin open; when it dies (even by SIGKILL) the pipe closes and we follow, so a
// crashed test run never leaves an orphaned server holding a port.
process.stdin.on('end', () => void shutdown(0));
process.stdin.on('close', () => void shutdown(0));
process.stdin.on('error', () => void shutdown(0));
process.stdin.resume();

// Belt and braces for platforms where stdin was not a pipe: once re-parented, our parent is gone.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void shutdown(0);
}, 1_000).unref();
