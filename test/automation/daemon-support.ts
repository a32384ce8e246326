import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import type { DaemonInfo } from '../../src/server/daemon-file.js';

const BIN = path.join(import.meta.dirname, '../../src/cli/bin.ts');

/** The environment a CLI child runs with: the test's S3 and home, nothing inherited from vitest's hooks. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: '', BILLING_DUCKDB_THREADS: '1', ...env };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `billing-pipeline ARGS` in a child process, from source. */
export function cli(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A child's stdout and stderr as one text, and a wait for a line matching a pattern in it. */
export function watchOutput(
  child: ChildProcess,
  label: string,
): { output(): string; waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray> } {
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (s: string) => {
    text += s;
    for (const listener of listeners) listener();
  };
  child.stdout?.setEncoding('utf8').on('data', onData);
  child.stderr?.setEncoding('utf8').on('data', onData);
  const waitFor = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = text.match(pattern);
        if (!match) return;
        done();
        resolve(match);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${label} never printed ${pattern} in ${timeoutMs} ms; output:\n${text}`));
      }, timeoutMs);
      const onExit = () => {
        done();
        reject(new Error(`${label} exited before printing ${pattern}; output:\n${text}`));
      };
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.off('exit', onExit);
      };
      listeners.add(check);
      child.once('exit', onExit);
      check();
    });
  return { output: () => text, waitFor };
}

export interface ServeProcess {
  child: ChildProcess;
  info: DaemonInfo;
  /** Everything the daemon printed so far (stdout and stderr). */
  output(): string;
  /** Resolves once the output matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  api<T = unknown>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T>;
  /** POST /api/sql; a truncated answer is an error. */
  sql<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** Sends `signal` and resolves with the exit code (null when killed by the signal). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `billing-pipeline serve|dev --port 0` in a child process; resolves once it listens. */
export async function startServe(
  env: Record<string, string>,
  mode: 'serve' | 'dev' = 'serve',
): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, mode, '--port', '0'], {
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // A failed test must not leave a daemon holding the warehouse.
  try {
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  } catch {
    // Started from a hook: the caller stops it.
  }
  const { output, waitFor } = watchOutput(child, 'daemon');

  await waitFor(/listening on http:\/\/\S+/);
  const home = env.BILLING_HOME ?? '';
  const info = JSON.parse(await readFile(path.join(home, 'daemon.json'), 'utf8')) as DaemonInfo;
  expectPid(info, child);

  const api = async <T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${info.url}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed = (await response.json()) as T;
    if (!response.ok)
      throw new Error(`${method} ${route}: HTTP ${response.status} ${JSON.stringify(parsed)}`);
    return parsed;
  };

  return {
    child,
    info,
    output,
    waitFor,
    api,
    async sql<T>(sql: string) {
      const answer = await api<{ rows: T[]; truncated: boolean }>('POST', '/api/sql', { sql, limit: 10_000 });
      // A poll that acts on part of the rows decides wrongly (a drained queue that is not).
      if (answer.truncated) throw new Error(`POST /api/sql cut the answer short: ${JSON.stringify(answer)}`);
      return answer.rows;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

function expectPid(info: DaemonInfo, child: ChildProcess): void {
  if (info.pid !== child.pid) throw new Error(`daemon.json names pid ${info.pid}, the child is ${child.pid}`);
}

/** Polls `probe` until it returns a value (not undefined); fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface RunRow {
  run_id: string;
  status: string;
  trigger: string;
  error: string | null;
  tags: string | null;
}

/** Every run in the ledger, oldest first, through the daemon's SQL endpoint. */
export const runsOf = (daemon: ServeProcess) =>
  daemon.sql<RunRow>('SELECT run_id, status, trigger, error, tags FROM runs ORDER BY created_at, run_id');

/** Resolves once nothing is queued or running. */
export const settled = (daemon: ServeProcess, timeoutMs = 45_000) =>
  eventually(
    async () => {
      const runs = await runsOf(daemon);
      return runs.some((r) => r.status === 'queued' || r.status === 'running') ? undefined : runs;
    },
    'the run queue to drain',
    timeoutMs,
  );
