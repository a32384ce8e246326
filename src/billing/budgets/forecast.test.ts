import { describe, expect, it } from 'vitest';
import { addDays } from '../../orchestrator/days.js';
import { type DaySpend, forecastPeriod } from './forecast.js';

function series(from: string, to: string, amount: (day: string, index: number) => string | null): DaySpend[] {
  const out: DaySpend[] = [];
  for (let day = from, i = 0; day <= to; day = addDays(day, 1), i++)
    out.push({ day, amount: amount(day, i) });
  return out;
}

const weekday = (day: string) => new Date(`${day}T00:00:00Z`).getUTCDay();

describe('forecastPeriod', () => {
  it('extends a flat run-rate exactly and sums spend exactly', () => {
    const history = series('2026-10-01', '2026-11-15', () => '100.100001');
    const f = forecastPeriod({
      history,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      asOf: '2026-11-15',
    });
    expect(f.spentToDate).toBe('1501.500015');
    expect(f.total).toBe('3003.000030');
    // No variation in the window: no band.
    expect(f.low).toBe(f.total);
    expect(f.high).toBe(f.total);
    expect(f.days.map((d) => d.day)).toEqual(
      series('2026-11-16', '2026-11-30', () => null).map((d) => d.day),
    );
    expect(f.unknownDays).toEqual([]);
  });

  it('learns the weekday pattern', () => {
    const history = series('2026-10-01', '2026-11-15', (day) =>
      [0, 6].includes(weekday(day)) ? '10' : '50',
    );
    const f = forecastPeriod({
      history,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      asOf: '2026-11-15',
    });
    const sunday = f.days.find((d) => d.day === '2026-11-22');
    const monday = f.days.find((d) => d.day === '2026-11-23');
    expect(sunday?.expected).toBe('10.000000');
    expect(monday?.expected).toBe('50.000000');
  });

  it('reports unknown days, leaves them out of training and estimates them instead of counting zero', () => {
    const history = series('2026-10-01', '2026-11-15', (day) => (day === '2026-11-10' ? null : '20'));
    const f = forecastPeriod({
      history,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      asOf: '2026-11-15',
    });
    expect(f.unknownDays).toEqual(['2026-11-10']);
    expect(f.spentToDate).toBe('280.000000');
    expect(f.days[0]).toMatchObject({ day: '2026-11-10', expected: '20.000000' });
    expect(f.total).toBe('600.000000');
  });

  it('counts a day missing from the history as zero spend', () => {
    const history = series('2026-11-01', '2026-11-10', (day) => (day === '2026-11-05' ? null : '10')).filter(
      (d) => d.amount !== null,
    );
    const f = forecastPeriod({
      history,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-10',
      asOf: '2026-11-10',
    });
    expect(f.spentToDate).toBe('90.000000');
    expect(f.unknownDays).toEqual([]);
    expect(f.days).toEqual([]);
    expect(f.total).toBe('90.000000');
  });

  it('is deterministic and its band brackets the expectation on noisy data', () => {
    const history = series('2026-10-01', '2026-11-15', (_day, i) => (100 + ((i * 37) % 23) - 11).toFixed(2));
    const input = { history, periodStart: '2026-11-01', periodEnd: '2026-11-30', asOf: '2026-11-15' };
    const a = forecastPeriod(input);
    expect(forecastPeriod(input)).toEqual(a);
    expect(Number(a.low)).toBeLessThan(Number(a.total));
    expect(Number(a.high)).toBeGreaterThan(Number(a.total));
    for (const d of a.days) expect(Number(d.low)).toBeLessThanOrEqual(Number(d.high));
  });

  it('forecasts a period with no data yet from the window before it', () => {
    const history = series('2026-10-04', '2026-10-31', () => '5');
    const f = forecastPeriod({
      history,
      periodStart: '2026-11-01',
      periodEnd: '2026-11-30',
      asOf: '2026-10-31',
    });
    expect(f.spentToDate).toBe('0.000000');
    expect(f.days).toHaveLength(30);
    expect(f.total).toBe('150.000000');
  });

  it('says unknown, not zero, when every day of the window lacks a rate', () => {
    const history = series('2026-12-01', '2026-12-02', () => null);
    const f = forecastPeriod({
      history,
      periodStart: '2026-12-01',
      periodEnd: '2026-12-31',
      asOf: '2026-12-02',
    });
    expect(f.unknown).toBe(true);
    expect(f.unknownDays).toEqual(['2026-12-01', '2026-12-02']);
    // With one known day there is something to learn from.
    const known = forecastPeriod({
      history: [...history, { day: '2026-11-30', amount: '7' }],
      periodStart: '2026-12-01',
      periodEnd: '2026-12-31',
      asOf: '2026-12-02',
    });
    expect(known.unknown).toBe(false);
  });
});
