import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  CorruptWarehouseError,
  describeFileFault,
  NoSpaceError,
  WarehouseBusyError,
} from '../../src/warehouse/duckdb/duckdb-errors.js';
import { DuckDBWarehouse } from '../../src/warehouse/duckdb/duckdb-warehouse.js';
import { cli } from '../support/cli.js';
import { csv, row, snapshot, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

/*
 * Faults of the DuckDB file itself, on real files: a corrupt block is reported as corruption (with
 * what to do), not as "in use by another process" after a 30 s wait because "block" contains
 * "lock"; a real lock conflict still is.
 */

const BLOCK_SIZE = 262_144;
/** DuckDB's file starts with a 4 KiB file header and two 4 KiB database headers; blocks follow. */
const FIRST_BLOCK = 3 * 4096;

afterEach(() => {
  vi.restoreAllMocks();
});

/** A real warehouse file with a table spanning several blocks, checkpointed so it is all in the file. */
async function checkpointedWarehouse(): Promise<string> {
  const path = join(await tmpDir('duckdb-faults'), 'billing.duckdb');
  const warehouse = await DuckDBWarehouse.open({ path });
  await warehouse.exec('CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(200000)');
  await warehouse.exec('CHECKPOINT');
  await warehouse.close();
  return path;
}

/** The offset of the file's last block: after a checkpoint it holds the catalog, needed to open it. */
async function lastBlock(path: string): Promise<number> {
  const { size } = await stat(path);
  return FIRST_BLOCK + Math.floor((size - FIRST_BLOCK - 1) / BLOCK_SIZE) * BLOCK_SIZE;
}

/** Overwrites bytes past a block's stored checksum, so its checksum no longer matches. */
async function corrupt(path: string, offset: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.write(Buffer.alloc(16, 0xab), 0, 16, offset + 8);
  } finally {
    await file.close();
  }
}

describe('a corrupt DuckDB file', () => {
  it('a damaged data block fails the query that reads it as corruption, naming the file and the rebuild', async () => {
    const path = await checkpointedWarehouse();
    await corrupt(path, FIRST_BLOCK + BLOCK_SIZE);
    const warehouse = await DuckDBWarehouse.open({ path });
    onTestFinished(() => warehouse.close());
    const error = await warehouse.all('SELECT max(s) FROM t').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptWarehouseError);
    expect((error as Error).message).toContain(`the warehouse ${path} is corrupt (Corrupt database file`);
    expect((error as Error).message).toMatch(/Restore it from a backup, or rebuild it from the source/);
    expect((error as Error).message).not.toMatch(/in use by another process/);
  });

  it('the CLI says so at once: no "waiting for it", no "in use", exit 1, no stack trace', async () => {
    const path = await checkpointedWarehouse();
    await corrupt(path, await lastBlock(path));
    const env = { BILLING_HOME: join(path, '..'), BILLING_WAREHOUSE: path };
    for (const args of [['query', 'SELECT count(*) FROM t'], ['runs']]) {
      const result = await cli(env, ...args);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^error: the warehouse ${path} is corrupt \\(`));
      expect(result.stderr).toMatch(/mv .*billing\.duckdb .*billing\.duckdb\.corrupt/);
      expect(result.stderr).toMatch(/run history, check results and sensor and schedule state .* are lost/);
      expect(result.stderr).not.toMatch(/waiting for it|in use by another process|\n\s+at /);
    }
  });
});

describe('the rebuild procedure of docs/failure-modes.md', () => {
  it('moving the corrupt file away and running materialize rebuilds the tables a clean run builds', async () => {
    const p = await testPipeline('duckdb-rebuild');
    const env = { ...p.env, BILLING_SOURCE: p.source, BILLING_HOME: join(p.home, 'state') };
    await p.put(
      'year=2025/month=04/day=23/a.csv',
      csv(row({ user_id: '1' }), row({ user_id: '2', region: 'eu-west-1' })),
    );
    await p.put(
      'year=2025/month=04/day=24/b.csv',
      csv(row({ user_id: '3', timestamp: '2025-04-24T08:00:00Z' })),
    );
    expect((await cli(env, 'materialize')).code).toBe(0);
    const clean = await snapshot(p);
    const file = join(env.BILLING_HOME, 'billing.duckdb');
    await corrupt(file, await lastBlock(file));
    const broken = await cli(env, 'materialize');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/is corrupt/);

    await rename(file, `${file}.corrupt`);
    const rebuilt = await cli(env, 'materialize');
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(await snapshot(p)).toEqual(clean);
  });
});

describe('a warehouse another process holds', () => {
  it('is reported as in use (the real lock-conflict text), not as corrupt', async () => {
    const path = await checkpointedWarehouse();
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `import('@duckdb/node-api').then(async ({ DuckDBInstance }) => {
          await DuckDBInstance.create(${JSON.stringify(path)});
          process.stdout.write('open\\n');
          setInterval(() => {}, 1000);
        })`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    onTestFinished(() => {
      holder.kill('SIGKILL');
    });
    await once(holder.stdout, 'data');
    const error = await DuckDBWarehouse.open({ path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseBusyError);
    expect((error as Error).message).toBe(
      `the warehouse ${path} is in use by another process; stop it or point BILLING_WAREHOUSE elsewhere`,
    );
    const readOnly = await DuckDBWarehouse.open({ path, readOnly: true }).catch((e: unknown) => e);
    expect(readOnly).toBeInstanceOf(WarehouseBusyError);
  });
});

describe('describeFileFault', () => {
  it('tells lock conflicts, checksum errors "in block" and full disks apart', () => {
    const at = '/data/billing.duckdb';
    expect(
      describeFileFault(
        new Error(
          'IO Error: Could not set lock on file "/data/billing.duckdb": Conflicting lock is held in /usr/bin/node (PID 7)',
        ),
        at,
        true,
      ),
    ).toBeInstanceOf(WarehouseBusyError);
    expect(
      describeFileFault(
        new Error(
          'IO Error: Corrupt database file: computed checksum 1 does not match stored checksum 2 in block at location 4096',
        ),
        at,
      ),
    ).toBeInstanceOf(CorruptWarehouseError);
    const full = describeFileFault(
      new Error(
        'TransactionContext Error: Failed to commit: Could not write file "/data/billing.duckdb.wal": No space left on device',
      ),
      at,
    );
    expect(full).toBeInstanceOf(NoSpaceError);
    expect(full?.message).toBe(
      'no space left on device writing /data/billing.duckdb.wal: free space or set BILLING_HOME elsewhere',
    );
    expect(describeFileFault(new Error('Binder Error: column "block" not found'), at)).toBeNull();
  });
});
