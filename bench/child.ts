import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled CLI, as a user's `billing-pipeline` runs it: package.json's `bin`, read at run time
 * because the entry file has moved before (main.js -> bin.js).
 */
export const CLI = cliPath();

function cliPath(): string {
  const root = new URL('../../', import.meta.url);
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.['billing-pipeline'];
  return fileURLToPath(new URL(bin ?? 'dist/src/cli/main.js', root));
}
/** Compiled bench scripts run as children sit next to this file in dist/bench/. */
export const benchScript = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url));

export interface ChildResult {
  code: number;
  wallMs: number;
  /** Peak resident set of the child in bytes (VmHWM), or null if it could not be read. */
  peakRss: number | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof) placed before the script. */
  nodeArgs?: readonly string[];
  /** A non-zero exit is an error unless this is set. */
  allowFailure?: boolean;
  /** Echo the child's stderr lines while it runs (long steps show their progress). */
  echo?: boolean;
}

const GNU_TIME = '/usr/bin/time';
const hasGnuTime = existsSync(GNU_TIME);
/** How the peak RSS is measured, for the results file. */
export const RSS_METHOD = hasGnuTime
  ? '/usr/bin/time -f %M (getrusage ru_maxrss)'
  : 'polling /proc/<pid>/status VmHWM every 20 ms';

let counter = 0;

/**
 * Runs `node script args` and measures its wall time from spawn to exit. Peak RSS comes from GNU time
 * (exact: the kernel's ru_maxrss) when installed, otherwise from polling VmHWM, which is itself a
 * high-water mark, so polling only risks missing growth in the last few milliseconds before exit.
 */
export async function runNode(
  script: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<ChildResult> {
  const nodeArgv = [...(options.nodeArgs ?? []), script, ...args];
  const rssFile = join(tmpdir(), `bench-rss-${process.pid}-${++counter}.txt`);
  const [command, argv] = hasGnuTime
    ? [GNU_TIME, ['-f', '%M', '-o', rssFile, process.execPath, ...nodeArgv]]
    : [process.execPath, nodeArgv];
  // NODE_OPTIONS from the caller (a debugger, a test runner) must not change what is measured.
  const env = { ...process.env, NODE_OPTIONS: '', ...options.env };
  const started = process.hrtime.bigint();
  const child = spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    if (options.echo) process.stderr.write(s.replace(/^/gm, '      | '));
  });
  let polled = null as number | null;
  const poll = hasGnuTime
    ? null
    : setInterval(() => {
        readVmHwm(child.pid).then((v) => {
          if (v !== null) polled = Math.max(polled ?? 0, v);
        });
      }, 20);
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (poll) clearInterval(poll);
  let peakRss: number | null = polled;
  if (hasGnuTime) {
    const text = await readFile(rssFile, 'utf8').catch(() => '');
    // GNU time prints "Command exited with non-zero status N" before the figure when the child fails.
    const kb = Number(text.trim().split('\n').pop());
    peakRss = Number.isFinite(kb) && kb > 0 ? kb * 1024 : null;
    await rm(rssFile, { force: true });
  }
  if (code !== 0 && !options.allowFailure) {
    throw new Error(
      `${script} ${args.join(' ')} exited with ${code}\n${stderr.slice(-2000)}${stdout.slice(-1000)}`,
    );
  }
  return { code, wallMs, peakRss, stdout, stderr };
}

async function readVmHwm(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** `billing-pipeline …` in a child process. */
export function runCli(args: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  return runNode(CLI, args, options);
}

/** The run id `materialize` prints on stdout (`run ID success, …`). */
export function runIdOf(result: ChildResult): string {
  const match = /^run (\S+) /m.exec(result.stdout);
  if (!match?.[1]) throw new Error(`no run id in materialize output: ${result.stdout.slice(0, 500)}`);
  return match[1];
}
