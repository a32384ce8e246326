import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A throwaway PostgreSQL server (for a test file, or a benchmark section), from the distribution's
 * binaries (Debian's `postgresql` package puts them in /usr/lib/postgresql/<major>/bin; .ci/run
 * installs it). Set BILLING_TEST_POSTGRES_URL to a superuser URL to use a server you already run
 * instead. The tests reach it through test/support/postgres.ts.
 */

const run = promisify(execFile);
const ROOT = '/usr/lib/postgresql';
const PASSWORD = 'billing-test';

/** The newest installed major version's bin folder, or undefined. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(ROOT)) return undefined;
  const majors = readdirSync(ROOT)
    .filter(
      (v) =>
        existsSync(path.join(ROOT, v, 'bin', 'initdb')) && existsSync(path.join(ROOT, v, 'bin', 'pg_ctl')),
    )
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : path.join(ROOT, majors[0], 'bin');
}

/** Whether the PostgreSQL tests can run; in CI a missing server is a failure, not a skip. */
export function postgresAvailable(): boolean {
  if (process.env.BILLING_TEST_POSTGRES_URL) return true;
  if (postgresBinDir()) return true;
  if (process.env.CI === 'true')
    throw new Error(`${ROOT}/*/bin/initdb is missing: .ci/run installs it with apt-get install postgresql`);
  return false;
}

export interface PostgresServer {
  /** A superuser URL to the `postgres` database, for creating and dropping test databases. */
  adminUrl: string;
  /**
   * Restarts the server (fast shutdown: open connections are cut), as an outage would. Absent for
   * a server this process did not start (BILLING_TEST_POSTGRES_URL).
   */
  restart?(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * initdb refuses to run as root (and CI runs as root): there the cluster belongs to the `postgres`
 * OS user the Debian package creates, and every server command runs as that user via runuser.
 */
function asServerUser(command: string, args: readonly string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, [...args]];
  return ['runuser', ['-u', 'postgres', '--', command, ...args]];
}

function idOf(flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
}

/** Starts a server on a free 127.0.0.1 port with its data and socket in a fresh temp folder. */
export async function startPostgres(): Promise<PostgresServer> {
  const external = process.env.BILLING_TEST_POSTGRES_URL;
  if (external) return { adminUrl: external, stop: async () => {} };
  const bin = postgresBinDir();
  if (!bin) throw new Error(`no PostgreSQL binaries under ${ROOT}: apt-get install postgresql`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'billing-pg-'));
  if (process.getuid?.() === 0) await chown(dir, idOf('-u'), idOf('-g'));
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  const pgCtl = path.join(bin, 'pg_ctl');
  const stopSync = () => {
    try {
      const [cmd, args] = asServerUser(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      execFileSync(cmd, args, { cwd: dir, stdio: 'ignore' });
    } catch {
      // Not running (never started, or already stopped).
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A worker killed before afterAll would otherwise leave a postgres process behind.
  process.once('exit', stopSync);
  try {
    // TCP needs a password (so tests can see an authentication failure); the socket is trusted.
    const pwfile = path.join(dir, 'pwfile');
    await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o644 });
    const [initCmd, initArgs] = asServerUser(path.join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      `--pwfile=${pwfile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await run(initCmd, initArgs, { cwd: dir });
    const port = await freePort();
    // Durability off: the cluster lives only as long as the test file (or bench section).
    const serverOptions = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=100',
    ].join(' ');
    const [ctlCmd, ctlArgs] = asServerUser(pgCtl, [
      '-D',
      data,
      '-l',
      log,
      '-w',
      '-t',
      '60',
      '-o',
      serverOptions,
      'start',
    ]);
    await run(ctlCmd, ctlArgs, { cwd: dir });
    return {
      adminUrl: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
      restart: async () => {
        const [cmd, args] = asServerUser(pgCtl, [
          '-D',
          data,
          '-l',
          log,
          '-m',
          'fast',
          '-w',
          '-t',
          '60',
          'restart',
        ]);
        await run(cmd, args, { cwd: dir });
      },
      stop: async () => {
        process.removeListener('exit', stopSync);
        const [cmd, args] = asServerUser(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
        await run(cmd, args, { cwd: dir }).catch(() => {});
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '(no server log)';
    process.removeListener('exit', stopSync);
    stopSync();
    throw new Error(`could not start PostgreSQL from ${bin}: ${String(error)}\n${serverLog}`, {
      cause: error,
    });
  }
}

let counter = 0;

/**
 * A new, empty database on the server: each test gets its own, so tests never see each other's
 * tables or functions (as graphile-worker's tests do). `drop` disconnects anyone still on it.
 */
export async function createDatabase(
  server: PostgresServer,
  prefix = 'test',
): Promise<{ url: string; drop: () => Promise<void> }> {
  counter += 1;
  const name = `${prefix}_${process.pid}_${counter}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
