import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli } from '../support/cli.js';
import { csv, row, testPipeline } from '../support/pipeline.js';

let env: Record<string, string>;

beforeAll(async () => {
  const p = await testPipeline('cli-lineage');
  env = { ...p.env, BILLING_SOURCE: p.source, BILLING_HOME: join(p.home, 'state') };
  await p.put('year=2025/month=04/day=23/a.csv', csv(row({ user_id: '1' }), row({ user_id: '2' })));
  expect((await cli(env, 'materialize')).code).toBe(0);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('billing-pipeline lineage', () => {
  it('lists direct inputs apart from everything upstream, so siblings do not read as a chain', async () => {
    const text = await cli(env, 'lineage', 'billing_events');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}inputs: +billing_files, fx_rates$/m);
    expect(text.stdout).not.toMatch(/<-/);
    expect(text.stdout).toMatch(/^ {2}outputs: +daily_aggregates, /m);
    const json = JSON.parse((await cli(env, 'lineage', 'daily_aggregates', '--format', 'json')).stdout);
    expect(json).toMatchObject({
      inputs: ['billing_events'],
      outputs: ['billing_insights', 'budget_status'],
    });
    expect(json.upstream).toEqual(['billing_files', 'fx_rates', 'billing_events']);
  });

  it('says so when a partition has no data instead of printing nothing', async () => {
    const empty = await cli(env, 'lineage', 'daily_aggregates', '--partition', '2025-05-01');
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(
      /No data for 2025-05-01: no run has materialized this partition and no source file is behind it\./,
    );
    const full = await cli(env, 'lineage', 'daily_aggregates', '--partition', '2025-04-23');
    expect(full.stdout).not.toMatch(/No data for/);
    expect(full.stdout).toMatch(/source files:/);
  });
});
