import { addDays } from '../../orchestrator/days.js';
import { Rng } from '../generate/random.js';
import { monthOf } from './budget.js';
import { type DaySpend, forecastPeriod } from './forecast.js';

/**
 * Backtest of the month-end forecast on synthetic months whose truth is known: a weekday pattern
 * (weekends lighter), linear growth and multiplicative noise. The bench reports its error at
 * mid-month; a test holds it to the error documented in docs/budgets-alerts.md.
 */
export interface SyntheticSeries {
  seed: number;
  /** Daily spend on a weekday at the start of the history. */
  base: number;
  /** Growth of the level per 30 days, as a fraction (0.1 = +10 % a month). */
  monthlyGrowth: number;
  /** Standard deviation of the day's relative noise. */
  noise: number;
  /** Weekend days as a fraction of a weekday. */
  weekend: number;
}

export interface BacktestCase {
  series: SyntheticSeries;
  month: string;
  asOf: string;
  actual: number;
  forecast: number;
  low: number;
  high: number;
  /** |forecast - actual| / actual. */
  absError: number;
  covered: boolean;
}

export interface BacktestResult {
  cases: BacktestCase[];
  /** Mean absolute percentage error of the mid-month forecast of the month total. */
  mape: number;
  maxError: number;
  /** Share of cases whose 80 % band holds the actual total. */
  coverage: number;
}

/** The series' spend per day from `from` to `to`, rounded to cents like billed amounts. */
export function syntheticDays(s: SyntheticSeries, from: string, to: string): DaySpend[] {
  const rng = new Rng(s.seed);
  const out: DaySpend[] = [];
  for (let day = from, i = 0; day <= to; day = addDays(day, 1), i++) {
    const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
    const level =
      s.base * (1 + (s.monthlyGrowth * i) / 30) * (weekday === 0 || weekday === 6 ? s.weekend : 1);
    // Box-Muller: a normal draw from two uniforms.
    const normal = Math.sqrt(-2 * Math.log(rng.floatOpen())) * Math.cos(2 * Math.PI * rng.float());
    out.push({ day, amount: Math.max(0, level * (1 + s.noise * normal)).toFixed(2) });
  }
  return out;
}

/** Forecasts `month` at `asOfDay` (day of month) from 2 months of history and compares with the truth. */
export function backtestCase(series: SyntheticSeries, month: string, asOfDay = 15): BacktestCase {
  const { start, end } = monthOf(`${month}-01`);
  const days = syntheticDays(series, addDays(start, -56), end);
  const asOf = `${month}-${String(asOfDay).padStart(2, '0')}`;
  const f = forecastPeriod({
    history: days.filter((d) => d.day <= asOf),
    periodStart: start,
    periodEnd: end,
    asOf,
  });
  const actual = days.filter((d) => d.day >= start).reduce((sum, d) => sum + Number(d.amount), 0);
  const forecast = Number(f.total);
  const low = Number(f.low);
  const high = Number(f.high);
  return {
    series,
    month,
    asOf,
    actual,
    forecast,
    low,
    high,
    absError: Math.abs(forecast - actual) / actual,
    covered: low <= actual && actual <= high,
  };
}

/** The bench's grid: several seeds, growth rates and noise levels, over several months. */
export const BACKTEST_GRID: readonly SyntheticSeries[] = [0, 0.05, 0.1, 0.2].flatMap((monthlyGrowth) =>
  [0.05, 0.15].flatMap((noise) =>
    [1, 2, 3, 4, 5].map((seed) => ({
      seed: seed * 101 + Math.round(monthlyGrowth * 100),
      base: 1000 * seed,
      monthlyGrowth,
      noise,
      weekend: 0.4,
    })),
  ),
);

export const BACKTEST_MONTHS: readonly string[] = ['2026-02', '2026-05', '2026-08', '2026-11'];

export function backtest(
  grid: readonly SyntheticSeries[] = BACKTEST_GRID,
  months: readonly string[] = BACKTEST_MONTHS,
  asOfDay = 15,
): BacktestResult {
  const cases = grid.flatMap((s) => months.map((m) => backtestCase(s, m, asOfDay)));
  const n = cases.length;
  return {
    cases,
    mape: cases.reduce((a, c) => a + c.absError, 0) / n,
    maxError: Math.max(...cases.map((c) => c.absError)),
    coverage: cases.filter((c) => c.covered).length / n,
  };
}
