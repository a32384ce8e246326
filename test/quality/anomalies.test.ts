import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_QUALITY_CONFIG } from '../../src/billing/checks/quality-config.js';
import { anomalySql, isAnomalous, MAD_TO_SIGMA, robustZ } from '../../src/billing/checks/robust-z.js';
import { generate } from '../../src/billing/generate/generator.js';
import { addDays } from '../../src/orchestrator/days.js';
import { createSource } from '../../src/sources/create-source.js';
import { csv, row, testPipeline } from '../support/pipeline.js';
import { tmpDir } from '../support/tmp.js';
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
      `SELECT entity_type, entity, CAST(day AS VARCHAR) AS day FROM insights_spend_anomalies
       ORDER BY abs(deviation) DESC, entity_type, entity, day LIMIT 3`,
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
    expect(insights.stdout).toMatch(
      /Spend anomalies \(\d+\): user and region days .* largest money at stake first/,
    );
    expect(insights.stdout).toMatch(
      new RegExp(`${spikeDay}\\s+user ${user?.user_id}\\s+\\+[\\d,]+\\.\\d\\d\\s`),
    );
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

/** `123.456789` as micro-units, exactly. */
const micros = (amount: unknown): bigint => {
  const [int = '0', frac = ''] = String(amount).split('.');
  return BigInt(int) * 1_000_000n + BigInt(`${frac}000000`.slice(0, 6));
};
const decimal = (units: bigint) =>
  `${units / 1_000_000n}.${(units % 1_000_000n).toString().padStart(6, '0')}`;

/**
 * The figures docs/quality.md quotes: the demo's shape (30 days × 5,000 rows, seed 42, 2 files a
 * day, 0.2% dirty rows), first as it is, then with 10 user-days and 5 region-days multiplied ×5–10.
 * The spikes go to accounts and regions whose usual day is at least 25 USD, so that even a ×5 spike
 * puts min_deviation (100 USD) at stake; smaller ones are below the reporting floor by design.
 */
describe('spend anomalies on demo-like data', () => {
  it('flags at most 5 days of random data, and finds >= 90% of injected spikes with <= 5 others', async () => {
    const p = await testPipeline('anomaly-recall');
    const sink = createSource(p.source, p.env);
    const from = '2025-06-01';
    try {
      await generate(
        {
          from,
          to: '2025-06-30',
          rowsPerDay: 5000,
          seed: 42,
          dirtyRate: 0.002,
          filesPerDay: 2,
          tmpDir: await tmpDir('anomaly-recall'),
        },
        (k, file) => sink.putFile(k, file),
      );
    } finally {
      await sink.close();
    }
    expect((await p.materialize()).status).toBe('success');
    const flaggedNow = async () =>
      (
        await p.rows(
          'SELECT entity_type, entity, CAST(day AS VARCHAR) AS day FROM insights_spend_anomalies ORDER BY abs(deviation) DESC',
        )
      ).map((r) => `${r.entity_type}/${r.entity}/${r.day}`);
    const plain = await flaggedNow();
    expect(plain.length).toBeLessThanOrEqual(5);

    // Ten accounts active almost every day with a usual day of at least 25 USD, one spike each
    // in the second half (a full 14-day window behind it), on a day of at least 25 USD.
    const accounts = await p.rows(
      `SELECT user_id FROM user_daily_aggregates GROUP BY user_id
       HAVING count(*) >= 28 AND median(total_normalized_credit_usage) >= 25
       ORDER BY (user_id * 7919) % 1009, user_id LIMIT 10`,
    );
    expect(accounts).toHaveLength(10);
    const injected = new Set<string>();
    const explained = new Set<string>();
    const rows: string[] = [];
    for (const [i, account] of accounts.entries()) {
      const days = await p.rows(
        `SELECT CAST(day AS VARCHAR) AS day, total_normalized_credit_usage AS spend FROM user_daily_aggregates
         WHERE user_id = ${account.user_id} AND day >= DATE '2025-06-15' AND total_normalized_credit_usage >= 25 ORDER BY day`,
      );
      const target = days[(i * 5) % days.length];
      const [home] = await p.rows(
        `SELECT region FROM billing_events WHERE user_id = ${account.user_id} AND region IS NOT NULL
         GROUP BY region ORDER BY sum(normalized_credit_usage) DESC, region LIMIT 1`,
      );
      if (!target || !home) throw new Error(`no day to spike for user ${account.user_id}`);
      const factor = BigInt(5 + (i % 6));
      rows.push(
        row({
          timestamp: `${target.day}T12:00:00Z`,
          user_id: String(account.user_id),
          region: String(home.region),
          credit_usage: decimal(micros(target.spend) * (factor - 1n)),
        }),
      );
      injected.add(`user/${account.user_id}/${target.day}`);
      // The account's region carries its spike too: a real anomaly of that region, not a false one.
      explained.add(`region/${home.region}/${target.day}`);
    }
    const regions = await p.rows(
      `SELECT region FROM region_daily_aggregates WHERE region IS NOT NULL GROUP BY region
       HAVING median(total_normalized_credit_usage) >= 25 ORDER BY region LIMIT 5`,
    );
    expect(regions).toHaveLength(5);
    for (const [i, region] of regions.entries()) {
      const day = addDays('2025-06-16', i * 3);
      const [spend] = await p.rows(
        `SELECT total_normalized_credit_usage AS s FROM region_daily_aggregates WHERE region = '${region.region}' AND day = DATE '${day}'`,
      );
      const factor = BigInt(5 + ((i * 2) % 6));
      // A new account (one day, no history of its own) spends it, so only the region's day jumps.
      rows.push(
        row({
          timestamp: `${day}T13:00:00Z`,
          user_id: String(900000 + i),
          region: String(region.region),
          credit_usage: decimal(micros(spend?.s) * (factor - 1n)),
        }),
      );
      injected.add(`region/${region.region}/${day}`);
    }
    // One file per spiked day, beside the generated ones.
    const byDay = new Map<string, string[]>();
    for (const r of rows) {
      const day = r.slice(0, 10);
      byDay.set(day, [...(byDay.get(day) ?? []), r]);
    }
    for (const [day, list] of byDay) await p.put(key(day, 'spikes.csv'), csv(...list));
    expect((await p.materialize()).status).toBe('success');

    const flagged = await flaggedNow();
    const found = [...injected].filter((k) => flagged.includes(k));
    const others = flagged.filter((k) => !injected.has(k) && !explained.has(k));
    // The figures docs/quality.md quotes.
    console.info(
      `spend anomalies: plain data ${plain.length} flagged; spikes found ${found.length}/${injected.size}, other days flagged ${others.length}`,
    );
    expect(found.length / injected.size).toBeGreaterThanOrEqual(0.9);
    expect(others.length).toBeLessThanOrEqual(5);
    // Ranked by money at stake: the top of the list is injected money.
    expect(injected.has(flagged[0] ?? '') || explained.has(flagged[0] ?? '')).toBe(true);
  }, 240_000);
});
