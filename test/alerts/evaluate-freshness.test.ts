import { describe, expect, it } from 'vitest';
import type { EvaluateOptions } from '../../src/alerts/evaluate.js';
import { runGraph } from '../quality/support.js';
import { csv, testPipeline } from '../support/pipeline.js';
import { alertsConfig, day, evaluateOn, key, keys } from './evaluate-support.js';

// Runs are real materializations without the runtime's own alert evaluation (runGraph), so each
// test decides when to evaluate and with which clock.
describe('alerts from a real pipeline', () => {
  it('freshness: a due day without a file fires (fixed clock, grace), resolves when the file arrives', async () => {
    const p = await testPipeline('alerts-freshness');
    const config = await alertsConfig({ rules: { freshness: { grace_hours: 6 } } });
    const only: EvaluateOptions['rules'] = ['freshness'];
    // An empty warehouse is not late.
    expect(await evaluateOn(p, { config, now: new Date('2025-04-25T12:00:00Z'), rules: only })).toEqual({
      fired: [],
      resolved: [],
    });
    await p.put(key('21'), csv(day('21')));
    await p.put(key('22'), csv(day('22')));
    expect((await runGraph(p)).status).toBe('success');

    // 23 is due at 2025-04-24 06:00 UTC: not yet at 05:59.
    const early = await evaluateOn(p, { config, now: new Date('2025-04-24T05:59:00Z'), rules: only });
    expect(early).toEqual({ fired: [], resolved: [] });
    const late = await evaluateOn(p, { config, now: new Date('2025-04-24T06:00:00Z'), rules: only });
    expect(keys(late.fired)).toEqual(['freshness|source|2025-04-23|']);
    expect(late.fired[0]?.summary).toBe(
      'No billing file for 2025-04-23: it was expected by 2025-04-24T06:00:00Z (6 h grace)',
    );
    // Days later, 23 is outside the window of new alerts but still missing: it stays open; 24-26 fire.
    const later = await evaluateOn(p, { config, now: new Date('2025-04-27T07:00:00Z'), rules: only });
    expect(keys(later.fired)).toEqual([
      'freshness|source|2025-04-24|',
      'freshness|source|2025-04-25|',
      'freshness|source|2025-04-26|',
    ]);
    expect(later.resolved).toEqual([]);

    // A rejected file is not an arrival; a good one is.
    await p.put(key('23'), 'not,a,billing,file\n1,2,3,4\n');
    await runGraph(p);
    expect(await evaluateOn(p, { config, now: new Date('2025-04-27T07:00:00Z'), rules: only })).toEqual({
      fired: [],
      resolved: [],
    });
    await p.put(key('23'), csv(day('23')));
    await p.put(key('24'), csv(day('24')));
    await runGraph(p);
    const fixed = await evaluateOn(p, { config, now: new Date('2025-04-27T07:00:00Z'), rules: only });
    expect(keys(fixed.resolved)).toEqual(['freshness|source|2025-04-23|', 'freshness|source|2025-04-24|']);
    expect(fixed.fired).toEqual([]);
  });
});
