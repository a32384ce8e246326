import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import { type App, createApp } from '../../src/server/app.js';
import { DIMENSIONS } from '../../src/server/event-filters.js';
import { runGraph, statusOf } from '../quality/support.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';
import { inProcessLauncher, seed } from './support.js';

/**
 * Every GET route of the API against the states that used to answer 500: a day withheld by an
 * error check (the aggregates' cursor is then JSON), an asset held back by a failed check, events
 * without an FX rate, and no FX source at all.
 */

const FROM = '2025-03-01';
const TO = '2025-03-06';
/** Holds an event without a currency: not_null (error) withholds this day. */
const WITHHELD = '2025-03-07';
/** GBP has rates from this day on only. */
const GBP_FROM = '2025-03-04';
const DAYS = ['2025-03-01', '2025-03-02', '2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06', WITHHELD];

interface Harness {
  p: TestPipeline;
  runtime: Runtime;
  app: App;
  close(): Promise<void>;
}

async function harness(p: TestPipeline): Promise<Harness> {
  const runtime = await p.open();
  const launcher = inProcessLauncher(runtime);
  return {
    p,
    runtime,
    app: createApp({ runtime, launcher }),
    async close() {
      await launcher.idle();
      await runtime.close();
    },
  };
}

/** Every GET path the app serves, with its parameters filled in every way the data allows. */
async function everyGetUrl(h: Harness): Promise<string[]> {
  const runs = (await h.runtime.warehouse.all<{ run_id: string }>('SELECT run_id FROM runs')).map(
    (r) => r.run_id,
  );
  const values: Record<string, readonly string[]> = {
    name: h.runtime.graph.assets.map((a) => a.name),
    day: DAYS,
    dimension: DIMENSIONS,
    id: [...runs, 'no-such-id'],
  };
  const paths = [
    ...new Set(h.app.routes.filter((r) => r.method === 'GET' && !r.path.includes('*')).map((r) => r.path)),
  ];
  const expand = (p: string): string[] => {
    const param = /:(\w+)/.exec(p);
    if (!param) return [p];
    const options = values[param[1] as string];
    if (!options) throw new Error(`no values for ${param[0]} in ${p}`);
    return options.flatMap((v) => expand(p.replace(param[0], encodeURIComponent(v))));
  };
  const queries = ['', `?day=${WITHHELD}`, `?day=2025-03-02&from=${FROM}&to=${WITHHELD}`];
  return paths.flatMap(expand).flatMap((url) => queries.map((q) => `${url}${q}`));
}

/** Sends every GET URL; returns those that answered 5xx or a 2xx without a readable body. */
async function sweep(h: Harness): Promise<{ urls: number; broken: string[] }> {
  const urls = await everyGetUrl(h);
  const broken: string[] = [];
  for (const url of urls) {
    const res = await h.app.request(url);
    const text = await res.text();
    // The SQL routes' coded refusal when the warehouse is not sandboxed (these harnesses open it
    // with file access) is a deliberate answer, not a crash.
    const refused = res.status === 503 && text.includes('"code":"unsandboxed"');
    if (res.status >= 500 && !refused) broken.push(`${url}: ${res.status} ${text.slice(0, 200)}`);
    else if (res.ok && url.startsWith('/api/') && !(JSON.parse(text) instanceof Object))
      broken.push(`${url}: not a JSON object`);
  }
  return { urls: urls.length, broken };
}

const json = async <T>(h: Harness, url: string): Promise<T> => {
  const res = await h.app.request(url);
  expect(res.status, url).toBe(200);
  return (await res.json()) as T;
};

interface CheckRows {
  failing: { error: number; warn: number };
  checks: {
    check_name: string;
    partition: string | null;
    passed: boolean;
    severity: string;
    withholds: boolean;
  }[];
}

describe('every GET route with withheld days, a held-back asset and missing rates', () => {
  let h: Harness;
  beforeAll(async () => {
    const p = await testPipeline('api-states', { fx: null });
    const rates = path.join(p.home, 'gap-rates.csv');
    await writeFile(
      rates,
      `date,currency,rate\n2000-01-01,EUR,1.0850000000\n2000-01-01,JPY,0.0066500000\n${GBP_FROM},GBP,1.2700000000\n`,
    );
    p.env.BILLING_FX_SOURCE = rates;
    await seed(p, { from: FROM, to: TO, rowsPerDay: 80, dirtyRate: 0, filesPerDay: 1 });
    await p.put(
      'year=2025/month=03/day=07/no-currency.csv',
      csv(
        row({ timestamp: `${WITHHELD}T10:00:00Z` }),
        row({ timestamp: `${WITHHELD}T11:00:00Z`, currency: '' }),
      ),
    );
    // A corrupted daily aggregate fails its reconciliation, which holds billing_insights back.
    const run = await runGraph(p, {
      after: {
        daily_aggregates: (w) =>
          w.exec("UPDATE daily_aggregates SET event_count = event_count + 1 WHERE day = DATE '2025-03-02'"),
      },
    });
    expect(run.status).toBe('failed');
    expect(statusOf(run)).toMatchObject({ daily_aggregates: 'success', billing_insights: 'skipped' });
    h = await harness(p);
  });
  afterAll(() => h?.close());

  it('answers no route with a 5xx', async () => {
    const { urls, broken } = await sweep(h);
    expect(urls).toBeGreaterThan(100);
    expect(broken).toEqual([]);
  });

  it('shows the withheld day, the held-back asset and the missing rates for what they are', async () => {
    const { assets } = await json<{ assets: { name: string; status: string | null }[] }>(h, '/api/assets');
    expect(Object.fromEntries(assets.map((a) => [a.name, a.status]))).toMatchObject({
      daily_aggregates: 'success',
      billing_insights: 'skipped',
    });
    const strip = await json<{ first: string; last: string; states: string }>(
      h,
      '/api/assets/daily_aggregates/partitions',
    );
    expect(strip.last).toBe(WITHHELD);
    expect(strip.states).toHaveLength((Date.parse(strip.last) - Date.parse(strip.first)) / 86_400_000 + 1);

    const events = await json<CheckRows>(h, '/api/assets/billing_events/checks?failed=true');
    const failing = events.checks.map((c) => `${c.check_name} ${c.partition} ${c.severity} ${c.withholds}`);
    expect(failing).toContain(`not_null ${WITHHELD} error true`);
    // GBP lacks rates before GBP_FROM (and an event without a currency has none): exactly the
    // partitions holding such events fail, at error severity, without being withheld.
    const gapDays = (
      await h.runtime.warehouse.all<{ day: string }>(
        `SELECT DISTINCT CAST(make_date(year, month, day) AS VARCHAR) AS day FROM billing_events
         WHERE (currency = 'GBP' AND event_date < DATE '${GBP_FROM}') OR currency IS NULL ORDER BY 1`,
      )
    ).map((r) => r.day);
    expect(gapDays.length).toBeGreaterThanOrEqual(4);
    expect(failing.filter((f) => f.startsWith('fx_rate_available'))).toEqual(
      gapDays.map((day) => `fx_rate_available ${day} error false`),
    );
    expect(events.failing.error).toBe(events.checks.filter((c) => c.severity === 'error').length);

    const daily = await json<CheckRows>(h, '/api/assets/daily_aggregates/checks?failed=true');
    expect(daily.checks.map((c) => `${c.check_name} ${c.partition}`)).toEqual(['reconciliation 2025-03-02']);
  });
});

describe('every GET route without an FX source', () => {
  let h: Harness;
  beforeAll(async () => {
    const p = await testPipeline('api-no-fx', { fx: null });
    await seed(p, { from: FROM, to: TO, rowsPerDay: 80, dirtyRate: 0, filesPerDay: 1 });
    expect((await p.materialize()).status).toBe('success');
    h = await harness(p);
  });
  afterAll(() => h?.close());

  it('answers no route with a 5xx and reports the missing rates as a notice, not a failure', async () => {
    const { urls, broken } = await sweep(h);
    expect(urls).toBeGreaterThan(100);
    expect(broken).toEqual([]);
    const events = await json<CheckRows>(h, '/api/assets/billing_events/checks?failed=true');
    expect(events.failing.error).toBe(0);
    expect(events.failing.warn).toBeGreaterThan(0);
    expect(
      new Set(events.checks.filter((c) => c.check_name === 'fx_rate_available').map((c) => c.severity)),
    ).toEqual(new Set(['warn']));
    const { assets } = await json<{ assets: { name: string; status: string | null }[] }>(h, '/api/assets');
    for (const a of assets) expect(a.status, a.name).toBe('success');
  });
});
