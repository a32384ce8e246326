import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/runtime.js';
import type { Row } from '../../src/warehouse/warehouse.js';
import { cli } from '../support/cli.js';
import { RESULT_TABLES } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

/*
 * A full disk under BILLING_HOME (a tmpfs of a few MB): materialize must end with one clear
 * message naming the path it could not write, exit 1, no stack trace and no Node crash, and once
 * there is space again the next run must build exactly what a clean run builds. Mounting needs
 * root (CI runs as root); elsewhere the test is skipped.
 */

const isRoot = process.getuid?.() === 0;
const root = process.cwd();
let source: string;
let baseEnv: Record<string, string>;
let clean: Record<string, Row[]>;

afterEach(() => {
  vi.restoreAllMocks();
});

async function tables(home: string): Promise<Record<string, Row[]>> {
  const runtime = await openRuntime(loadConfig({ ...process.env, ...baseEnv }, { home }));
  try {
    const out: Record<string, Row[]> = {};
    for (const [table, sql] of Object.entries(RESULT_TABLES)) out[table] = await runtime.warehouse.all(sql);
    return out;
  } finally {
    await runtime.close();
  }
}

/** `materialize` in its own process, as a user runs it: a crash or a hung promise shows only there. */
async function materializeProcess(home: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/bin.ts'), 'materialize'], {
    env: { ...process.env, ...baseEnv, BILLING_HOME: home },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

beforeAll(async () => {
  if (!isRoot) return;
  const dir = await tmpDir('disk-full');
  source = join(dir, 'source');
  const fx = join(dir, 'fx-rates.csv');
  // About 5.7 MB of CSV: more than the small disks below hold once parsed and loaded.
  const generated = await cli(
    {},
    'generate',
    '--to',
    source,
    '--from',
    '2025-04-01',
    '--to',
    '2025-04-10',
    '--rows-per-day',
    '5000',
    '--seed',
    '7',
    '--dirty-rate',
    '0.01',
    '--fx-rates',
    fx,
  );
  expect(generated.code, generated.stderr).toBe(0);
  baseEnv = {
    BILLING_SOURCE: source,
    BILLING_FX_SOURCE: fx,
    BILLING_DUCKDB_THREADS: '2',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const cleanHome = join(dir, 'clean');
  const result = await cli({ ...baseEnv, BILLING_HOME: cleanHome }, 'materialize');
  expect(result.code, result.stderr).toBe(0);
  clean = await tables(cleanHome);
});

describe.skipIf(!isRoot)('materialize on a full disk', () => {
  // 2 MB fills up while the scratch files are written, 6 MB while DuckDB writes its WAL or file.
  it.each(['2m', '6m'])(
    'BILLING_HOME on a %s tmpfs: a clear message, exit 1; with space again it equals a clean run',
    async (size) => {
      const home = join(await tmpDir('disk-full-home'), 'home');
      await mkdir(home);
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', home]);
      onTestFinished(() => {
        execFileSync('umount', [home]);
      });

      const full = await materializeProcess(home);
      expect(full.code, full.stderr).toBe(1);
      const escaped = home.replaceAll('/', '\\/');
      expect(full.stderr).toMatch(
        new RegExp(
          `^error: (\\w+: )?no space left on device writing ${escaped}\\/\\S+: free space or set BILLING_HOME elsewhere$`,
          'm',
        ),
      );
      expect(full.stderr).not.toMatch(/Unhandled 'error' event|\n\s+at |node:internal/);
      // The scratch folders went with the failed run.
      expect((await readdir(join(home, 'tmp'))).filter((f) => f !== 'duckdb')).toEqual([]);

      execFileSync('mount', ['-o', 'remount,size=128m', home]);
      const again = await cli({ ...baseEnv, BILLING_HOME: home }, 'materialize');
      expect(again.code, again.stderr).toBe(0);
      expect(await tables(home)).toEqual(clean);
    },
  );
});
