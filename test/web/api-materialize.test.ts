import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetSummary, MaterializeResult } from '../../src/server/asset-schemas.js';
import { type ApiHarness, apiHarness } from './support.js';

/**
 * The selections behind the UI's "materialize" buttons: rebuilding one day of daily_aggregates
 * leaves its downstream stale, and "materialize stale" is what clears it.
 */
describe('POST /api/assets/materialize', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness('api-materialize', { from: '2025-06-01', to: '2025-06-03', rowsPerDay: 100 });
  });
  afterAll(() => h?.close());

  const post = async (body: Record<string, unknown>) => {
    const res = await h.app.request('/api/assets/materialize', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as MaterializeResult };
  };
  const notFresh = async () =>
    (await h.get<{ assets: AssetSummary[] }>('/api/assets')).body.assets
      .filter((a) => a.freshness !== 'fresh')
      .map((a) => a.name);

  it('plans an asset with its downstream, over a range with its upstream too', async () => {
    const all = h.runtime.graph.assets.map((a) => a.name);
    const down = h.runtime.graph.reachable('daily_aggregates', 'down');
    const up = h.runtime.graph.reachable('daily_aggregates', 'up');
    const noRange = await post({ scope: 'downstream', asset: 'daily_aggregates', dryRun: true });
    expect(noRange.status).toBe(200);
    expect(noRange.body.runId).toBeNull();
    expect(noRange.body.plan.assets.map((a) => a.name)).toEqual(['daily_aggregates', ...down]);
    const ranged = await post({
      scope: 'downstream',
      asset: 'daily_aggregates',
      from: '2025-06-02',
      to: '2025-06-03',
      dryRun: true,
    });
    const names = ranged.body.plan.assets.map((a) => a.name);
    expect(new Set(names)).toEqual(new Set([...up, 'daily_aggregates', ...down]));
    const daily = ranged.body.plan.assets.find((a) => a.name === 'daily_aggregates');
    expect(daily).toMatchObject({ partitions: 2, reason: 'selected' });
    const everything = await post({ scope: 'all', from: '2025-06-02', to: '2025-06-02', dryRun: true });
    expect(everything.body.plan.assets.map((a) => a.name)).toEqual(all);
    expect(everything.body.plan.summary).toContain(`Runs ${all.length} asset(s)`);
    expect((await post({ scope: 'downstream', dryRun: true })).status).toBe(400);
    expect((await post({ scope: 'downstream', asset: 'nope', dryRun: true })).status).toBe(404);
  });

  it('says there is nothing to run when nothing is stale', async () => {
    expect(await notFresh()).toEqual([]);
    const { body } = await post({ scope: 'stale' });
    expect(body).toMatchObject({ runId: null, plan: { assets: [], total_partitions: 0 } });
    expect(body.plan.summary).toMatch(/Nothing to run/);
  });

  it('clears what one day of daily_aggregates with its upstream leaves stale', async () => {
    const one = await post({
      scope: 'upstream',
      asset: 'daily_aggregates',
      from: '2025-06-02',
      to: '2025-06-02',
    });
    expect(one.body.runId).not.toBeNull();
    await h.launcher.idle();
    const stale = await notFresh();
    expect(stale.length).toBeGreaterThan(0);

    const plan = (await post({ scope: 'stale', dryRun: true })).body.plan;
    const planned = plan.assets.map((a) => a.name);
    for (const name of stale) expect(planned).toContain(name);
    expect(plan.total_partitions).toBeGreaterThan(0);

    const launched = await post({ scope: 'stale' });
    expect(launched.body.runId).not.toBeNull();
    expect(launched.body.plan.assets.map((a) => a.name)).toEqual(planned);
    await h.launcher.idle();
    const run = await h.get<{ run: { status: string; selection: string[] } }>(
      `/api/runs/${launched.body.runId}`,
    );
    expect(run.body.run).toMatchObject({ status: 'success', selection: planned });
    expect(await notFresh()).toEqual([]);
  });
});
