import { spawn } from 'node:child_process';
import { CLI } from './child.js';

/** A `billing-pipeline serve` child and its HTTP API, as a client of the daemon sees it. */
export interface DaemonChild {
  url: string;
  api<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T>;
  sql<T>(sql: string, params?: readonly (string | number)[]): Promise<T[]>;
  /** What the daemon printed so far. */
  output(): string;
  /** SIGTERM, then the exit code (the daemon's graceful shutdown). */
  stop(): Promise<number | null>;
}

const STARTUP_TIMEOUT_MS = 60_000;

/** Starts the compiled CLI's `serve --port 0` with `env` and resolves once it listens. */
export async function startDaemonChild(env: Record<string, string>): Promise<DaemonChild> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    // As in runNode: a caller's NODE_OPTIONS must not change what is measured.
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    output += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    output += s;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start in ${STARTUP_TIMEOUT_MS} ms:\n${output}`));
    }, STARTUP_TIMEOUT_MS);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve(match[1]);
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} during startup:\n${output}`));
    });
  });

  const api = async <T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route}: HTTP ${response.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  };
  return {
    url,
    api,
    output: () => output,
    sql: async <T>(sql: string, params?: readonly (string | number)[]) =>
      (await api<{ rows: T[] }>('POST', '/api/sql', { sql, params, limit: 10_000 })).rows,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`serve exited with ${code} on SIGTERM:\n${output.slice(-2000)}`);
      return code;
    },
  };
}
