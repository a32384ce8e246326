import { describe, expect, it } from 'vitest';
import { runGraph } from '../quality/support.js';
import { csv, testPipeline } from '../support/pipeline.js';
import { alertsConfig, day, evaluateOn, key, keys } from './evaluate-support.js';

// A real materialization without the runtime's own alert evaluation (runGraph), evaluated with a fixed clock.
describe('check and run alerts from a real pipeline', () => {
  it('check_failed and run_failed open on a failing error check and resolve when a later run succeeds', async () => {
    const p = await testPipeline('alerts-checks');
    const config = await alertsConfig({ rules: { freshness: { enabled: false } } });
    const now = new Date('2025-04-24T12:00:00Z');
    await p.put(key('22'), csv(day('22'), day('22', { user_id: '2', region: 'mars-1' })));
    await p.put(
      key('23'),
      csv(day('23', { user_id: '3' }), day('23', { user_id: '4', currency: '', credit_usage: '7' })),
    );
    const failed = await runGraph(p);
    expect(failed.status).toBe('failed');

    const opened = await evaluateOn(p, { config, now, runId: failed.runId });
    // Error-severity checks only: the warn check on region (2025-04-22) does not alert.
    expect(keys(opened.fired)).toEqual([
      'check_failed|check:billing_events/fx_rate_available|2025-04-23|',
      'check_failed|check:billing_events/not_null|2025-04-23|',
      'run_failed|trigger:test|-|',
    ]);
    const run = opened.fired.find((a) => a.rule === 'run_failed');
    expect(run?.severity).toBe('error');
    expect(run?.details).toMatchObject({ run_id: failed.runId, trigger: 'test' });
    expect(String(run?.details.error)).toContain('check not_null (error) failed for 2025-04-23');
    const notNull = opened.fired.find((a) => a.scope === 'check:billing_events/not_null');
    expect(notNull?.summary).toBe(
      'Check not_null on billing_events (2025-04-23) failed: NULL values: currency ×1',
    );
    expect(await evaluateOn(p, { config, now })).toEqual({ fired: [], resolved: [] });

    // A second failing run of the same trigger is the same outage: nothing new.
    const again = await runGraph(p);
    expect(again.status).toBe('failed');
    expect(await evaluateOn(p, { config, now, runId: again.runId })).toEqual({ fired: [], resolved: [] });

    await p.put(key('23'), csv(day('23', { user_id: '3' }), day('23', { user_id: '4', credit_usage: '7' })));
    const fixed = await runGraph(p);
    expect(fixed.status).toBe('success');
    const resolved = await evaluateOn(p, { config, now, runId: fixed.runId });
    expect(resolved.fired).toEqual([]);
    expect(keys(resolved.resolved)).toEqual(keys(opened.fired));
    expect(resolved.resolved.every((a) => a.resolved_run_id === fixed.runId)).toBe(true);
  });
});
