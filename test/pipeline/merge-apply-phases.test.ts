import { describe, expect, it } from 'vitest';
import { AGGREGATES } from '../../src/billing/aggregates/index.js';
import { type MergeProbe, mergeSql } from '../../src/billing/aggregates/merge-sql.js';

const probe = (over: Partial<MergeProbe> = {}): MergeProbe => ({
  keys: 1,
  shrunk: false,
  lostExtremes: false,
  removedValues: false,
  newKeys: false,
  newValues: false,
  ...over,
});

// Exactness with and without these phases is covered by merged-aggregates.test.ts (random
// histories on both engines: keys and values appear early, recur later); here, which run.
describe('merged aggregates: phases the probe skips', () => {
  for (const def of AGGREGATES.filter((d) => d.merge)) {
    const sql = mergeSql(def, def.merge as NonNullable<typeof def.merge>);
    const inserts = (p: MergeProbe, state: 'totals' | 'values') =>
      sql.apply(p).filter((s) => s.startsWith(`INSERT INTO "${def.name}__${state}"`)).length;

    it(`${def.name}: inserts totals only for new keys, values only for new values`, () => {
      expect(inserts(probe(), 'totals')).toBe(0);
      expect(inserts(probe(), 'values')).toBe(0);
      expect(inserts(probe({ newKeys: true }), 'totals')).toBe(1);
      expect(inserts(probe({ newValues: true }), 'values')).toBe(1);
      // The totals' UPDATE and the values' day counts always run: every changed key has a delta.
      expect(sql.apply(probe()).some((s) => s.startsWith(`UPDATE "${def.name}__totals"`))).toBe(true);
      expect(sql.apply(probe()).some((s) => s.startsWith(`UPDATE "${def.name}__values"`))).toBe(true);
    });
  }

  it('user_aggregates recomputes extremes from the partials only when one was lost', () => {
    const def = AGGREGATES.find((d) => d.name === 'user_aggregates');
    if (!def?.merge) throw new Error('user_aggregates merges');
    const sql = mergeSql(def, def.merge);
    const recompute = (p: MergeProbe) =>
      sql.apply(p).filter((s) => s.includes('"first_seen" = coalesce(t."first_seen"')).length;
    expect(recompute(probe())).toBe(0);
    expect(recompute(probe({ lostExtremes: true }))).toBe(1);
  });

  it('the probe reports each', () => {
    for (const def of AGGREGATES.filter((d) => d.merge)) {
      const sql = mergeSql(def, def.merge as NonNullable<typeof def.merge>);
      expect(sql.probe).toMatch(/AS new_keys/);
      expect(sql.probe).toMatch(/AS new_values/);
      expect(sql.probe).toMatch(/AS lost_extremes/);
    }
  });
});
