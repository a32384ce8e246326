import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FxFileError, parseFxRates } from '../../src/billing/fx/fx-file.js';
import { generateFxRates } from '../../src/billing/fx/fx-generator.js';
import { Rng } from '../../src/billing/generate/random.js';
import { addDays } from '../../src/orchestrator/days.js';
import { csv, row, type TestPipeline, testPipeline } from '../support/pipeline.js';

const key = (day: string, name = 'a.csv') => {
  const [y, m, d] = day.split('-');
  return `year=${y}/month=${m}/day=${d}/${name}`;
};

/** A pipeline whose FX file the test rewrites between runs. */
async function withRates(
  name: string,
  rates: string,
): Promise<TestPipeline & { setRates(text: string): Promise<void> }> {
  const p = await testPipeline(name);
  const file = path.join(p.home, 'rates.csv');
  await writeFile(file, rates);
  p.env.BILLING_FX_SOURCE = file;
  return Object.assign(p, { setRates: (text: string) => writeFile(file, text) });
}

const normalized = (p: TestPipeline, where = 'true') =>
  p.rows(
    `SELECT CAST(event_date AS VARCHAR) AS day, currency, credit_usage, normalized_credit_usage
     FROM billing_events WHERE ${where} ORDER BY source_key, source_line`,
  );

/** credit (6 digits) × rate (10 digits), rounded half away from zero to 6 digits, in integers. */
function oracle(credit: string, rate: string): string {
  const units = (text: string, digits: number) => {
    const negative = text.startsWith('-');
    const [int = '0', frac = ''] = text.replace('-', '').split('.');
    const value = BigInt(int + frac.padEnd(digits, '0'));
    return negative ? -value : value;
  };
  const product = units(credit, 6) * units(rate, 10); // scale 1e-16
  const magnitude = product < 0n ? -product : product;
  const rounded = (magnitude + 5_000_000_000n) / 10_000_000_000n; // scale 1e-6
  const digits = rounded.toString().padStart(7, '0');
  const text = `${digits.slice(0, -6)}.${digits.slice(-6)}`;
  return product < 0n && rounded > 0n ? `-${text}` : text;
}

describe('FX file', () => {
  it('parses headers in any order and case, skips a reporting-currency row of 1, and lists every bad line', () => {
    const text =
      '\uFEFFRate,Date,currency,note\r\n1.0850000000,2025-04-01,eur,x\r\n1.000,2025-04-01,USD,\r\n\r\n';
    expect(parseFxRates(text, { reportingCurrency: 'USD', origin: 'rates.csv' })).toEqual([
      { date: '2025-04-01', currency: 'EUR', rate: '1.0850000000' },
    ]);
    const bad = [
      'date,currency,rate',
      '2025-02-30,EUR,1.1',
      '2025-04-01,EURO,1.1',
      '2025-04-01,EUR,0',
      '2025-04-01,EUR,-1.1',
      '2025-04-01,EUR,1.12345678901',
      '2025-04-01,USD,1.5',
      '2025-04-02,GBP,1.27',
      '2025-04-02,GBP,1.270',
      '2025-04-02,GBP,1.28',
      '2025-04-03,JPY',
    ].join('\n');
    expect(() => parseFxRates(bad, { reportingCurrency: 'USD', origin: 'rates.csv' })).toThrowError(
      new FxFileError(
        'rates.csv was not loaded (previous rates are kept): line 2: date "2025-02-30" is not a valid YYYY-MM-DD date; ' +
          'line 3: currency "EURO" is not a three-letter code; ' +
          'line 4: rate "0" must be a positive decimal with at most 10 integer and 10 fraction digits; ' +
          'line 5: rate "-1.1" must be a positive decimal with at most 10 integer and 10 fraction digits; ' +
          'line 6: rate "1.12345678901" must be a positive decimal with at most 10 integer and 10 fraction digits; ' +
          'line 7: USD is the reporting currency, its rate is always 1 (found 1.5); ' +
          'line 10: a second, different rate for GBP on 2025-04-02 (line 8); ' +
          'line 11: 2 field(s), the header has 3',
      ),
    );
    expect(() => parseFxRates('date,rate\n', { reportingCurrency: 'USD', origin: 'f' })).toThrow(
      /header is missing currency/,
    );
  });
});

describe('normalized_credit_usage', () => {
  it('is credit × rate rounded half away from zero to 6 digits, exactly', async () => {
    const fixed = { EUR: '0.5', GBP: '0.4999999999', JPY: '1234567890.1234567891', USD: '1' };
    const cases: [keyof typeof fixed, string, string][] = [
      ['EUR', '0.000001', '0.000001'], // 0.0000005
      ['EUR', '-0.000001', '-0.000001'],
      ['EUR', '1.000001', '0.500001'], // half-even would give 0.500000
      ['EUR', '0.000005', '0.000003'], // 0.0000025; half-even 0.000002
      ['EUR', '999999999999.999999', '500000000000.000000'],
      ['GBP', '0.000001', '0.000000'], // 0.00000049999999990
      ['GBP', '-0.000001', '0.000000'],
      ['GBP', '3.000000', '1.500000'], // 1.4999999997
      ['JPY', '0.000001', '1234.567890'], // 1234.5678901234567891
      ['USD', '-123.456789', '-123.456789'],
    ];
    for (const [currency, credit, expected] of cases) {
      expect(oracle(credit, fixed[currency]), `${currency} ${credit}`).toBe(expected);
    }
    // Random amounts and rates (three made-up currencies, three rate dates each) against the oracle.
    const rng = new Rng(42);
    const next = () => rng.float();
    const lines = ['date,currency,rate', 'EUR', 'GBP', 'JPY'].map((c) =>
      c.length === 3 ? `2025-04-01,${c},${fixed[c as keyof typeof fixed]}` : c,
    );
    const rates = new Map<string, [string, string][]>();
    for (const currency of ['AAA', 'BBB', 'CCC']) {
      for (const date of ['2025-04-01', '2025-04-10', '2025-04-20']) {
        const rate = `${Math.floor(next() * 200)}.${String(Math.floor(next() * 1e10)).padStart(10, '0')}`;
        lines.push(`${date},${currency},${rate}`);
        rates.set(currency, [...(rates.get(currency) ?? []), [date, rate]]);
      }
    }
    const p = await withRates('fx-exact', `${lines.join('\n')}\n`);
    await p.put(
      key('2025-04-23', 'crafted.csv'),
      csv(...cases.map(([currency, credit]) => row({ currency, credit_usage: credit }))),
    );
    const byDay = new Map<string, string[]>();
    for (let i = 0; i < 200; i++) {
      const currency = ['AAA', 'BBB', 'CCC', 'USD'][Math.floor(next() * 4)] as string;
      const sign = next() < 0.1 ? '-' : '';
      const int = Math.floor(next() * 10 ** Math.floor(next() * 7));
      const credit = `${sign}${int}.${String(Math.floor(next() * 1e6)).padStart(6, '0')}`;
      const day = addDays('2025-04-02', Math.floor(next() * 25));
      const line = row({ user_id: String(i), currency, credit_usage: credit, timestamp: `${day}T12:00:00Z` });
      byDay.set(day, [...(byDay.get(day) ?? []), line]);
    }
    for (const [day, dayRows] of byDay) await p.put(key(day, 'random.csv'), csv(...dayRows));
    expect((await p.materialize()).status).toBe('success');

    const crafted = await normalized(p, "source_key LIKE '%crafted.csv'");
    expect(crafted.map((r) => [r.currency, r.credit_usage, r.normalized_credit_usage])).toEqual(
      cases.map(([currency, credit, expected]) => [currency, credit, expected]),
    );
    const all = await normalized(p, "source_key LIKE '%random.csv'");
    expect(all).toHaveLength(200);
    const rateOn = (currency: string, day: string) =>
      currency === 'USD' ? '1' : (rates.get(currency) ?? []).filter(([date]) => date <= day).at(-1)?.[1];
    const wrong = all.filter((r) => {
      const rate = rateOn(String(r.currency), String(r.day));
      return rate === undefined || r.normalized_credit_usage !== oracle(String(r.credit_usage), rate);
    });
    expect(wrong).toEqual([]);
    // Aggregates sum the per-event amounts (not credit × rate per group), to the last digit.
    const [totals] = await p.rows(
      `SELECT (SELECT CAST(sum(normalized_credit_usage) AS VARCHAR) FROM billing_events) AS events,
        (SELECT CAST(sum(total_normalized_credit_usage) AS VARCHAR) FROM daily_aggregates) AS daily,
        (SELECT CAST(sum(total_normalized_credit_usage) AS VARCHAR) FROM currency_aggregates) AS by_currency`,
    );
    expect(totals?.daily).toBe(totals?.events);
    expect(totals?.by_currency).toBe(totals?.events);
  });
});

describe('generated FX rates', () => {
  it('are reproducible, parse cleanly, and cover every sample currency every day', () => {
    const options = { from: '2025-04-01', to: '2025-04-03', seed: 7, reportingCurrency: 'EUR' };
    const text = generateFxRates(options);
    expect(generateFxRates(options)).toBe(text);
    expect(generateFxRates({ ...options, seed: 8 })).not.toBe(text);
    const rates = parseFxRates(text, { reportingCurrency: 'EUR', origin: 'generated' });
    expect(rates.map((r) => `${r.date} ${r.currency}`)).toEqual(
      ['2025-04-01', '2025-04-02', '2025-04-03'].flatMap((d) => [`${d} GBP`, `${d} JPY`, `${d} USD`]),
    );
    expect(rates.every((r) => /^\d+\.\d{10}$/.test(r.rate))).toBe(true);
    // Around 1 / 1.085 EUR per USD, within the walk's ±0.3% a day.
    const usd = Number(rates.find((r) => r.currency === 'USD')?.rate);
    expect(Math.abs(usd - 1 / 1.085)).toBeLessThan(0.01);
    expect(() => generateFxRates({ ...options, reportingCurrency: 'CHF' })).toThrow(RangeError);
  });
});
