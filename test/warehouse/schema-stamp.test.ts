import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AutomationStore } from '../../src/orchestrator/automation-store.js';
import { Ledger } from '../../src/orchestrator/ledger.js';
import { openRuntime } from '../../src/runtime.js';
import { buildId } from '../../src/warehouse/schema-stamp.js';
import { type TestBackend, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Opens and closes a runtime with `build`; returns whether the schema setups ran. */
async function opener(backend: TestBackend) {
  const p = await testPipeline(`stamp-${backend}`, { backend });
  const config = loadConfig(
    { ...p.env, BILLING_DUCKDB_THREADS: '2' },
    { source: p.source, home: path.join(p.home, 'state') },
  );
  const ledgerSetup = vi.spyOn(Ledger.prototype, 'setup');
  const automationSetup = vi.spyOn(AutomationStore.prototype, 'setup');
  return {
    async open(build: string | null, between?: (sql: (text: string) => Promise<void>) => Promise<void>) {
      const before = [ledgerSetup.mock.calls.length, automationSetup.mock.calls.length];
      const runtime = await openRuntime(config, { buildId: build });
      try {
        await between?.((text) => runtime.warehouse.exec(text));
      } finally {
        await runtime.close();
      }
      const ran = [
        ledgerSetup.mock.calls.length - (before[0] ?? 0),
        automationSetup.mock.calls.length - (before[1] ?? 0),
      ];
      expect(ran[0]).toBe(ran[1]);
      return ran[0] === 1;
    },
    async materialize() {
      const runtime = await openRuntime(config, { buildId: 'b1' });
      try {
        return await runtime.materialize({ trigger: 'test' });
      } finally {
        await runtime.close();
      }
    },
  };
}

describe.each(['duckdb', 'postgres'] as const)('schema stamp (%s)', (backend) => {
  it('skips the setups only for the same build on the same catalog', { timeout: 120_000 }, async () => {
    const w = await opener(backend);
    // No known build (tsx, tests): every open sets up.
    expect(await w.open(null)).toBe(true);
    expect(await w.open(null)).toBe(true);
    // A build sets up once, then finds its stamp.
    expect(await w.open('b1')).toBe(true);
    expect(await w.open('b1')).toBe(false);
    // Another build sets up again, once.
    expect(await w.open('b2')).toBe(true);
    expect(await w.open('b2')).toBe(false);
    // A table the setups make, dropped: the next open makes it again.
    await w.open('b2', (sql) => sql('DROP TABLE fx_state'));
    expect(await w.open('b2')).toBe(true);
    expect(await w.open('b2')).toBe(false);
    // A column changed by hand (another shape than the setups left): set up again.
    await w.open('b2', (sql) => sql('ALTER TABLE runs ADD COLUMN extra_by_hand VARCHAR'));
    expect(await w.open('b2')).toBe(true);
    expect(await w.open('b2')).toBe(false);
    // The stamp row gone: set up again.
    await w.open('b2', (sql) => sql('DELETE FROM schema_stamp'));
    expect(await w.open('b2')).toBe(true);
  });

  it('runs a pipeline on a stamped warehouse as on a set-up one', { timeout: 120_000 }, async () => {
    const w = await opener(backend);
    expect(await w.open('b1')).toBe(true);
    expect(await w.open('b1')).toBe(false);
    const summary = await w.materialize();
    expect(summary.status).toBe('success');
  });
});

describe('buildId', () => {
  it('is null under TypeScript sources, and follows every compiled module', async () => {
    expect(await buildId(import.meta.url)).toBeNull();
    const root = await tmpDir('build-id');
    const dist = path.join(root, 'src');
    await mkdir(path.join(dist, 'warehouse'), { recursive: true });
    await writeFile(path.join(dist, 'runtime.js'), 'export {};\n');
    const self = pathToFileURL(path.join(dist, 'warehouse', 'schema-stamp.js')).href;
    await writeFile(fileURLToPath(self), 'export {};\n');
    const first = await buildId(self);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(await buildId(self)).toBe(first);
    // Rebuilt (same bytes, new time) or changed: another build.
    const later = new Date(Date.now() + 5_000);
    await utimes(path.join(dist, 'runtime.js'), later, later);
    const rebuilt = await buildId(self);
    expect(rebuilt).not.toBe(first);
    await writeFile(path.join(dist, 'runtime.js'), 'export const x = 1;\n');
    await utimes(path.join(dist, 'runtime.js'), later, later);
    expect(await buildId(self)).not.toBe(rebuilt);
  });
});
