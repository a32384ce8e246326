import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { toMicros } from '../../src/billing/budgets/decimal.js';
import { csv, row, type TestBackend, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { seed } from '../web/support.js';

const FROM = '2025-03-01';
const TO = '2025-03-12';
/** GBP has rates from this day on only: earlier days with GBP events are unknown, not zero. */
const GBP_FROM = '2025-03-04';
const RATES = { EUR: '1.0850000000', JPY: '0.0066500000', GBP: '1.2700000000' };
/** Each event's reporting-currency amount from the rates above, independently of the pipeline. */
const EXPECTED = `round(credit_usage * CASE currency WHEN 'USD' THEN CAST(1 AS DECIMAL(20,10))
    WHEN 'EUR' THEN CAST(${RATES.EUR} AS DECIMAL(20,10)) WHEN 'JPY' THEN CAST(${RATES.JPY} AS DECIMAL(20,10))
    WHEN 'GBP' THEN CAST(${RATES.GBP} AS DECIMAL(20,10)) END, 6)`;
const MISSING = `(currency = 'GBP' AND event_date < DATE '${GBP_FROM}')`;

async function gapPipeline(name: string, backend: TestBackend): Promise<TestPipeline> {
  const p = await testPipeline(name, { fx: null, backend });
  const rates = path.join(p.home, 'rates.csv');
  await writeFile(
    rates,
    `date,currency,rate\n2000-01-01,EUR,${RATES.EUR}\n2000-01-01,JPY,${RATES.JPY}\n${GBP_FROM},GBP,${RATES.GBP}\n`,
  );
  p.env.BILLING_FX_SOURCE = rates;
  p.env.BILLING_BUDGETS_CONFIG = path.join(p.home, 'budgets.yaml');
  return p;
}

type Scope = { column: string; value: string } | null;

/** Spend to date computed from billing_events alone: per day, unknown when any event lacks a rate. */
async function independent(p: TestPipeline, scope: Scope) {
  const filter = scope ? `AND CAST(${scope.column} AS VARCHAR) = '${scope.value}'` : '';
  const days =
    await p.rows(`SELECT CAST(event_date AS VARCHAR) AS day, CAST(sum(${EXPECTED}) AS VARCHAR) AS spend,
      count(*) FILTER (WHERE ${MISSING}) AS missing
    FROM billing_events WHERE event_date BETWEEN DATE '2025-03-01' AND DATE '2025-03-31' ${filter}
    GROUP BY event_date ORDER BY event_date`);
  let spend = 0n;
  let unknown = 0;
  let unnormalized = 0;
  for (const d of days) {
    if (Number(d.missing) > 0) {
      unknown++;
      unnormalized += Number(d.missing);
    } else spend += toMicros(String(d.spend));
  }
  return { spend, unknown, unnormalized };
}

async function status(p: TestPipeline, id: string) {
  const [s] =
    await p.rows(`SELECT CAST(spend_to_date AS VARCHAR) AS spend, unknown_days, known_days, unnormalized_events,
      CAST(as_of AS VARCHAR) AS as_of, CAST(period_start AS VARCHAR) AS period_start, state, is_current,
      CAST(forecast AS VARCHAR) AS forecast, CAST(forecast_low AS VARCHAR) AS low, CAST(forecast_high AS VARCHAR) AS high,
      CAST(share_used AS VARCHAR) AS share, currency
    FROM budget_status WHERE budget_id = '${id}' AND is_current`);
  if (!s) throw new Error(`no status for ${id}`);
  return s;
}

/**
 * Spend to date matches billing_events exactly per scope, with unknown days; a late event and a
 * lowering re-upload follow. Run by budget-status.test.ts (DuckDB) and budget-status-postgres.test.ts.
 */
export async function budgetStatusScenario(backend: TestBackend): Promise<void> {
  {
    const p = await gapPipeline(`budget-status-${backend}`, backend);
    await seed(p, { from: FROM, to: TO, rowsPerDay: 120, dirtyRate: 0.03, filesPerDay: 1, seed: 11 });
    await writeFile(p.env.BILLING_BUDGETS_CONFIG ?? '', '[]\n');
    const first = await p.materialize();
    expect(first.assets.find((a) => a.asset === 'budget_status')?.status).toBe('success');
    expect(await p.rows('SELECT * FROM budget_status')).toEqual([]);
    const rejected = await p.rows('SELECT count(*) AS n FROM rejected_rows');
    expect(Number(rejected[0]?.n)).toBeGreaterThan(0);

    // Scope values taken from the data: the busiest of each.
    const pick = async (column: string) =>
      String(
        (
          await p.rows(
            `SELECT ${column} AS v FROM billing_events GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
          )
        )[0]?.v,
      );
    const values = {
      user: await pick('user_id'),
      region: await pick('region'),
      service_tier: await pick('service_tier'),
      resource_type: await pick('resource_type'),
    };
    await writeFile(
      p.env.BILLING_BUDGETS_CONFIG ?? '',
      [
        '- { id: all-monthly, scope: all, period: monthly, amount: 1000000 }',
        `- { id: one-user, scope: { user: ${values.user} }, period: monthly, amount: 5 }`,
        `- { id: one-region, scope: { region: ${values.region} }, period: monthly, amount: "250.5" }`,
        `- { id: one-tier, scope: { service_tier: ${values.service_tier} }, period: monthly, amount: 100 }`,
        `- { id: one-type, scope: { resource_type: ${values.resource_type} }, period: { from: 2025-03-02, to: 2025-03-31 }, amount: 100 }`,
      ].join('\n'),
    );
    // No new data: the changed definitions alone recompute the status.
    await p.materialize();
    const scopes: Record<string, Scope> = {
      'all-monthly': null,
      'one-user': { column: 'user_id', value: values.user },
      'one-region': { column: 'region', value: values.region },
      'one-tier': { column: 'service_tier', value: values.service_tier },
    };
    for (const [id, scope] of Object.entries(scopes)) {
      const s = await status(p, id);
      const want = await independent(p, scope);
      expect(toMicros(String(s.spend)), id).toBe(want.spend);
      expect(Number(s.unknown_days), id).toBe(want.unknown);
      expect(Number(s.unnormalized_events), id).toBe(want.unnormalized);
      expect(s.as_of, id).toBe(TO);
      expect(s.currency).toBe('USD');
      expect(Number(s.known_days) + Number(s.unknown_days), id).toBe(12);
      // The forecast covers the rest of March: above the spend, with a band around it.
      expect(Number(s.forecast), id).toBeGreaterThan(Number(s.spend));
      expect(Number(s.low), id).toBeLessThanOrEqual(Number(s.forecast));
      expect(Number(s.high), id).toBeGreaterThanOrEqual(Number(s.forecast));
    }
    expect((await independent(p, null)).unknown).toBeGreaterThan(0);
    // The range budget starts on the 2nd: its period is the range, its spend only from that day.
    const typed = await status(p, 'one-type');
    expect(typed.period_start).toBe('2025-03-02');
    const all = await status(p, 'all-monthly');
    expect(all.period_start).toBe('2025-03-01');
    expect(all.state).toBe('ok');
    const user = await status(p, 'one-user');
    expect(user.state).toBe(
      toMicros(String(user.spend)) >= toMicros('5') ? 'over' : Number(user.forecast) > 5 ? 'at_risk' : 'ok',
    );
    const days = await p.rows(
      "SELECT kind, count(*) AS n FROM budget_status_days WHERE budget_id = 'all-monthly' AND period_start = DATE '2025-03-01' GROUP BY kind ORDER BY kind",
    );
    expect(days.map((d) => [d.kind, Number(d.n)])).toEqual([
      ['actual', 12],
      ['forecast', 19],
    ]);

    // A late event (a day already loaded arrives in a later file) raises that day's spend.
    const late = 'year=2025/month=03/day=12/late.csv';
    await p.put(
      late,
      csv(row({ timestamp: '2025-03-08T10:00:00Z', credit_usage: '500.250000', currency: 'USD' })),
    );
    await p.materialize();
    const raised = await status(p, 'all-monthly');
    expect(toMicros(String(raised.spend)) - toMicros(String(all.spend))).toBe(toMicros('500.25'));
    expect(toMicros(String(raised.spend))).toBe((await independent(p, null)).spend);

    // Re-uploading that file with less lowers it again.
    await p.put(
      late,
      csv(row({ timestamp: '2025-03-08T10:00:00Z', credit_usage: '0.250000', currency: 'USD' })),
    );
    await p.materialize();
    const lowered = await status(p, 'all-monthly');
    expect(toMicros(String(lowered.spend)) - toMicros(String(all.spend))).toBe(toMicros('0.25'));
  }
}
