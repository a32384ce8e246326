import { describe, expect, it } from 'vitest';
import type { EvaluateOptions } from '../../src/alerts/evaluate.js';
import { runGraph } from '../quality/support.js';
import { csv, testPipeline } from '../support/pipeline.js';
import { alertsConfig, day, evaluateOn, key, keys } from './evaluate-support.js';

// A real materialization without the runtime's own alert evaluation (runGraph), evaluated with a fixed clock.
describe('spend anomaly alerts from a real pipeline', () => {
  it('spend_anomaly: a spike in the insights opens an alert labelled in the reporting currency; a corrected file resolves it', async () => {
    const p = await testPipeline('alerts-anomaly');
    const config = await alertsConfig();
    const only: EvaluateOptions['rules'] = ['spend_anomaly'];
    const now = new Date('2025-04-12T12:00:00Z');
    const days = Array.from({ length: 11 }, (_, i) => String(i + 1).padStart(2, '0'));
    for (const d of days) await p.put(key(d), csv(day(d, { credit_usage: d === '11' ? '510' : '10' })));
    expect((await runGraph(p)).status).toBe('success');
    const opened = await evaluateOn(p, { config, now, rules: only });
    expect(keys(opened.fired)).toEqual([
      'spend_anomaly|region:us-east-1|2025-04-11|',
      'spend_anomaly|user:1|2025-04-11|',
    ]);
    const user = opened.fired.find((a) => a.scope === 'user:1');
    expect(user?.summary).toMatch(
      /^Spend spike for user 1 on 2025-04-11: 510\.00 USD against a median of 10\.00 USD \(\+500\.00 USD, robust z .+\)$/,
    );
    expect(user?.details).toMatchObject({ currency: 'USD', spend: '510.000000', deviation: '500.000000' });
    expect(await evaluateOn(p, { config, now, rules: only })).toEqual({ fired: [], resolved: [] });

    await p.put(key('11'), csv(day('11', { credit_usage: '11' })));
    expect((await runGraph(p)).status).toBe('success');
    const resolved = await evaluateOn(p, { config, now, rules: only });
    expect(keys(resolved.resolved)).toEqual(keys(opened.fired));
  });
});
