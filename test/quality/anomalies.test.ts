import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_QUALITY_CONFIG } from '../../src/billing/checks/quality-config.js';
import { anomalySql, isAnomalous, MAD_TO_SIGMA, robustZ } from '../../src/billing/checks/robust-z.js';
import { addDays } from '../../src/orchestrator/days.js';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { cli, cliEnv, latestResults, verdicts } from './support.js';

const key = (day: string, name = 'a.csv') => {
  const [y, m, d] = day.split('-');
  return `year=${y}/month=${m}/day=${d}/${name}`;
};
const rule = DEFAULT_QUALITY_CONFIG.anomalies.spend;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('robust z rule', () => {
  it('scores against the median in units of 1.4826 × MAD and needs history, size and |z|', () => {
    expect(robustZ({ value: 25, median: 10, mad: 2 })).toBeCloseTo(15 / (MAD_TO_SIGMA * 2), 12);
    expect(robustZ({ value: 25, median: 10, mad: 0 })).toBeNull();
    const base = { median: 10, mad: 1, historyDays: 7 };
    expect(isAnomalous({ ...base, value: 30 }, rule)).toBe(true); // z 13.5, +200%
    expect(isAnomalous({ ...base, value: 30, historyDays: 6 }, rule)).toBe(false); // too little history
    expect(isAnomalous({ ...base, value: 19, mad: 0.1 }, rule)).toBe(false); // z 60 but only +90%
    expect(isAnomalous({ ...base, value: 20, mad: 2 }, rule)).toBe(false); // +100% but z 3.4
    expect(isAnomalous({ ...base, value: 0, mad: 0.5 }, rule)).toBe(true); // vanished: -100%, z -13.5
    expect(isAnomalous({ ...base, value: 20, mad: 0 }, rule)).toBe(true); // flat baseline, doubled
    expect(isAnomalous({ ...base, value: 10, mad: 0 }, rule)).toBe(false);
  });

  it('gives the same verdict in SQL as in TypeScript', async () => {
    const p = await testPipeline('robust-z-sql', { fx: null });
    const cases: [number, number, number, number][] = [];
    for (const value of [0, 9, 19, 20, 21, 30, -30])
      for (const mad of [0, 0.1, 1, 2, 5])
        for (const history of [6, 7]) cases.push([value, 10, mad, history]);
    const sql = anomalySql({ value: 'v', median: 'm', mad: 'd', history: 'h' }, rule);
    const values = cases.map(([v, m, d, h]) => `(${v}, ${m}, ${d}, ${h})`).join(', ');
    const rows = await p.rows(
      `SELECT ${sql.anomalous} AS anomalous, ${sql.z} AS z FROM (VALUES ${values}) t(v, m, d, h)`,
    );
    expect(rows).toHaveLength(cases.length);
    rows.forEach((r, i) => {
      const [value, median, mad, historyDays] = cases[i] as [number, number, number, number];
      const o = { value, median, mad, historyDays };
      expect({ case: cases[i], anomalous: r.anomalous }).toEqual({
        case: cases[i],
        anomalous: isAnomalous(o, rule),
      });
      const z = robustZ(o);
      if (z === null) expect(r.z).toBeNull();
      else expect(Number(r.z)).toBeCloseTo(z, 9);
    });
  });
});

describe('spend anomalies', () => {
  it('flags injected spikes in generated data, per user and per region, in the insights and the CLI', async () => {
    const p = await testPipeline('spend-anomalies', { fx: null });
    const env = cliEnv(p);
    const fx = path.join(p.home, 'fx.csv');
    const generated = await cli(
      env,
      'generate',
      '--to',
      p.source,
      '--from',
      '2025-04-01',
      '--to',
      '2025-04-21',
      '--rows-per-day',
      '400',
      '--seed',
      '11',
      '--fx-rates',
      fx,
    );
    expect(generated.code).toBe(0);
    expect(generated.stdout).toContain(`set BILLING_FX_SOURCE=${fx}`);
    p.env.BILLING_FX_SOURCE = fx;
    env.BILLING_FX_SOURCE = fx;
    expect((await p.materialize()).status).toBe('success');
    // The generated rates cover every generated event.
    const fxResults = await latestResults(p, 'billing_events', 'fx_rate_available');
    expect(fxResults).toHaveLength(21);
    expect(fxResults.every((r) => r.passed)).toBe(true);
    expect(
      await p.rows('SELECT count(*) AS n FROM billing_events WHERE normalized_credit_usage IS NULL'),
    ).toEqual([{ n: 0 }]);

    // The most regular user (active on the most days) and the quietest region, neither flagged so
    // far (generated data has anomalies of its own), get a spike on the 18th.
    const flagged = (kind: string) =>
      `SELECT entity FROM insights_spend_anomalies WHERE entity_type = '${kind}'`;
    const [user] = await p.rows(
      `SELECT user_id FROM user_daily_aggregates WHERE CAST(user_id AS VARCHAR) NOT IN (${flagged('user')})
       GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1`,
    );
    const [region] = await p.rows(
      `SELECT region FROM region_daily_aggregates WHERE region NOT IN (${flagged('region')})
       GROUP BY region ORDER BY sum(total_normalized_credit_usage), region LIMIT 1`,
    );
    const spikeDay = '2025-04-18';
    const spiked = (kind: string, entity: string) =>
      p.rows(
        `SELECT direction, history_days, robust_z FROM insights_spend_anomalies
         WHERE entity_type = '${kind}' AND entity = '${entity}' AND day = DATE '${spikeDay}'`,
      );
    expect(await spiked('user', String(user?.user_id))).toEqual([]);
    expect(await spiked('region', String(region?.region))).toEqual([]);

    await p.put(
      key(spikeDay, 'spike.csv'),
      csv(
        row({ timestamp: `${spikeDay}T09:00:00Z`, user_id: String(user?.user_id), credit_usage: '25000' }),
        row({
          timestamp: `${spikeDay}T10:00:00Z`,
          user_id: '999999',
          region: String(region?.region),
          credit_usage: '50000',
        }),
      ),
    );
    expect((await p.materialize()).status).toBe('success');
    const [userSpike] = await spiked('user', String(user?.user_id));
    expect(userSpike?.direction).toBe('spike');
    expect(Number(userSpike?.history_days)).toBeGreaterThanOrEqual(rule.min_history_days);
    expect(Number(userSpike?.robust_z)).toBeGreaterThan(rule.max_robust_z);
    expect((await spiked('region', String(region?.region)))[0]?.direction).toBe('spike');
    // The injections (and the user's home region, which carries the user's spike) are the largest
    // deviations of all.
    const top = await p.rows(
      'SELECT entity_type, entity, CAST(day AS VARCHAR) AS day FROM insights_spend_anomalies LIMIT 3',
    );
    expect(top.map((r) => r.day)).toEqual([spikeDay, spikeDay, spikeDay]);
    expect(top).toEqual(
      expect.arrayContaining([
        { entity_type: 'user', entity: String(user?.user_id), day: spikeDay },
        { entity_type: 'region', entity: String(region?.region), day: spikeDay },
      ]),
    );
    const [counts] = await p.rows(
      'SELECT (SELECT count(*) FROM insights_spend_anomalies) AS listed, spend_anomalies FROM billing_insights',
    );
    expect(counts?.spend_anomalies).toBe(counts?.listed);
    // The day's total spend jumps too: the volume check on daily_aggregates warns.
    const volume = await latestResults(p, 'daily_aggregates', 'volume_anomaly');
    expect(volume.find((r) => r.partition === spikeDay)).toMatchObject({ passed: false, severity: 'warn' });
    expect(volume.find((r) => r.partition === spikeDay)?.message).toMatch(/^unusual normalized spend/);

    const insights = await cli(env, 'insights');
    expect(insights.code).toBe(0);
    expect(insights.stdout).toMatch(/Spend anomalies \(\d+; robust z/);
    expect(insights.stdout).toMatch(new RegExp(`user\\s+${user?.user_id}\\s+${spikeDay}`));
  });

  it('scores a spike over an almost flat baseline without overflowing', async () => {
    const p = await testPipeline('flat-baseline');
    for (let i = 0; i < 8; i++) {
      const day = addDays('2025-04-01', i);
      await p.put(
        key(day),
        csv(row({ timestamp: `${day}T10:00:00Z`, credit_usage: i % 2 ? '1.000001' : '1' })),
      );
    }
    await p.put(key('2025-04-09'), csv(row({ timestamp: '2025-04-09T10:00:00Z', credit_usage: '100000' })));
    expect((await p.materialize()).status).toBe('success');
    const anomalies = await p.rows(
      'SELECT entity_type, entity, CAST(day AS VARCHAR) AS day, history_days, robust_z FROM insights_spend_anomalies ORDER BY entity_type',
    );
    expect(anomalies.map((r) => `${r.entity_type} ${r.entity} ${r.day} ${r.history_days}`)).toEqual([
      'region us-east-1 2025-04-09 8',
      'user 1 2025-04-09 8',
    ]);
    // MAD 0.0000005: z is about 1.3e11, far beyond the old DECIMAL(12,2).
    expect(Number(anomalies[0]?.robust_z)).toBeGreaterThan(1e11);
    expect(await verdicts(p, 'daily_aggregates', 'volume_anomaly')).toMatchObject({ '2025-04-09': false });
  });
});
