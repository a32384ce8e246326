import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `$BILLING_HOME/daemon.json`: how a CLI finds the daemon that owns the warehouse. Written once
 * the HTTP server listens, removed on shutdown; a file left by a killed daemon is recognised as
 * stale because its pid is gone or nothing answers on its port.
 */
export interface DaemonInfo {
  version: 1;
  pid: number;
  mode: 'dev' | 'serve';
  /** Base URL clients call, e.g. `http://127.0.0.1:3000`. */
  url: string;
  host: string;
  port: number;
  /** Bearer token the daemon requires, if any (the file is readable by its owner only). */
  token: string | null;
  warehouse: string;
  started_at: string;
  /**
   * The daemon's effective configuration as runs record it (secrets redacted): a CLI compares its
   * own before handing the daemon a run. Missing in files of older daemons.
   */
  config?: Record<string, unknown>;
}

export class DaemonUnreachableError extends Error {
  override name = 'DaemonUnreachableError';
}

export const daemonFilePath = (home: string): string => join(home, 'daemon.json');

export async function writeDaemonFile(home: string, info: DaemonInfo): Promise<void> {
  await mkdir(home, { recursive: true });
  const target = daemonFilePath(home);
  const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, target);
}

export async function readDaemonFile(home: string): Promise<DaemonInfo | null> {
  let text: string;
  try {
    text = await readFile(daemonFilePath(home), 'utf8');
  } catch {
    return null;
  }
  try {
    const info = JSON.parse(text) as DaemonInfo;
    return info.version === 1 && typeof info.pid === 'number' && typeof info.url === 'string' ? info : null;
  } catch {
    return null;
  }
}

/** Removes the file only if it is still this process's (a newer daemon may have replaced it). */
export async function removeDaemonFile(home: string, pid: number): Promise<void> {
  const info = await readDaemonFile(home);
  if (info?.pid === pid) await rm(daemonFilePath(home), { force: true });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The live daemon serving this warehouse, or null when there is none (no file, another
 * warehouse, a dead pid, or a port nobody answers on). A daemon that is alive but does not answer
 * in time is an error: opening the warehouse beside it would only fail on the file lock.
 */
export async function findLiveDaemon(
  home: string,
  warehouse: string,
  options: { timeoutMs?: number } = {},
): Promise<DaemonInfo | null> {
  const info = await readDaemonFile(home);
  if (!info || info.warehouse !== warehouse || !pidAlive(info.pid)) return null;
  try {
    const response = await fetch(`${info.url}/api/health`, {
      headers: info.token ? { authorization: `Bearer ${info.token}` } : {},
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    return response.ok ? info : null;
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new DaemonUnreachableError(
        `the daemon (pid ${info.pid}) owns ${warehouse} but does not answer at ${info.url}; wait for it or stop it (kill ${info.pid})`,
      );
    }
    // Connection refused: the pid was reused by another process, the daemon is gone.
    return null;
  }
}
