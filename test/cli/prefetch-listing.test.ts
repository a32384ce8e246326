import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openRuntime } from '../../src/runtime.js';
import { csv, row, testPipeline } from '../support/pipeline.js';

/*
 * `materialize` from the CLI opens its runtime with prefetchListing: the source's listing starts
 * as soon as the warehouse is open, and the run's billing_files uses it (real s3rver, real DuckDB).
 */
describe('prefetchListing (the CLI materialize path)', () => {
  it('loads what a listing at open time holds, and the next run lists anew', async () => {
    const p = await testPipeline('prefetch');
    await p.put('year=2025/month=04/day=23/a.csv', csv(row({ user_id: '1' }), row({ user_id: '2' })));
    const config = loadConfig(
      { ...p.env, BILLING_DUCKDB_THREADS: '2' },
      { source: p.source, home: path.join(p.home, 'state') },
    );

    const first = await openRuntime(config, { prefetchListing: true });
    try {
      const summary = await first.materialize({ trigger: 'test' });
      expect(summary.status).toBe('success');
      const files = summary.assets.find((a) => a.asset === 'billing_files')?.result?.metadata;
      expect(files?.listed).toBe(1);
      expect(await first.warehouse.all('SELECT count(*) AS n FROM billing_events')).toEqual([{ n: 2 }]);
      // Only the first listing was early: another run in the same process sees a new file.
      await p.put('year=2025/month=04/day=24/b.csv', csv(row({ timestamp: '2025-04-24T10:00:00Z' })));
      const again = await first.materialize({ trigger: 'test' });
      expect(again.assets.find((a) => a.asset === 'billing_files')?.result?.metadata?.listed).toBe(2);
      expect(await first.warehouse.all('SELECT count(*) AS n FROM billing_events')).toEqual([{ n: 3 }]);
    } finally {
      await first.close();
    }

    // A no-op with the early listing changes nothing downstream.
    const noop = await openRuntime(config, { prefetchListing: true });
    try {
      const summary = await noop.materialize({ trigger: 'test' });
      expect(summary.status).toBe('success');
      expect(summary.assets.filter((a) => a.result?.changed).map((a) => a.asset)).toEqual([]);
    } finally {
      await noop.close();
    }
  });

  it('reports a listing that failed early as the run would have', async () => {
    const p = await testPipeline('prefetch-missing');
    const config = loadConfig(
      { ...p.env, BILLING_DUCKDB_THREADS: '2', BILLING_SOURCE_RETRIES: '0' },
      { source: 's3://no-such-bucket-prefetch/', home: path.join(p.home, 'state') },
    );
    const runtime = await openRuntime(config, { prefetchListing: true });
    try {
      const summary = await runtime.materialize({ trigger: 'test' });
      expect(summary.status).toBe('failed');
      expect(summary.error).toMatch(/no-such-bucket-prefetch/);
    } finally {
      await runtime.close();
    }
  });

  it('closes cleanly when the run never asks for the early listing', async () => {
    const p = await testPipeline('prefetch-unused');
    await p.put('year=2025/month=04/day=23/a.csv', csv(row()));
    const config = loadConfig(
      { ...p.env, BILLING_DUCKDB_THREADS: '2' },
      { source: p.source, home: path.join(p.home, 'state') },
    );
    const runtime = await openRuntime(config, { prefetchListing: true });
    await runtime.close();
    const next = await openRuntime(config, { prefetchListing: true });
    try {
      const summary = await next.materialize({ trigger: 'test', selection: ['fx_rates'] });
      expect(summary.status).toBe('success');
      expect(summary.assets.map((a) => a.asset)).toEqual(['fx_rates']);
    } finally {
      await next.close();
    }
  });
});
