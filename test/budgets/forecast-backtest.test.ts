import { describe, expect, it } from 'vitest';
import {
  BACKTEST_GRID,
  BACKTEST_MONTHS,
  backtest,
  backtestCase,
} from '../../src/billing/budgets/forecast-backtest.js';

// The bounds docs/budgets-alerts.md ("Forecast method") documents for the mid-month forecast.
const DOCUMENTED_MAX_ERROR = 0.12;
const DOCUMENTED_MAPE = 0.05;

describe('the forecast on generated months with a known trend', () => {
  it('lands within the documented error at mid-month (weekday pattern + 10 % monthly growth)', () => {
    const grid = BACKTEST_GRID.filter((s) => s.monthlyGrowth === 0.1);
    expect(grid.length).toBeGreaterThanOrEqual(10);
    const result = backtest(grid, BACKTEST_MONTHS, 15);
    for (const c of result.cases)
      expect(c.absError, `${c.series.seed} ${c.month}`).toBeLessThan(DOCUMENTED_MAX_ERROR);
    expect(result.mape).toBeLessThan(DOCUMENTED_MAPE);
    // Growth makes a trailing run-rate lag: it under-forecasts, never over.
    expect(result.cases.filter((c) => c.forecast < c.actual).length).toBeGreaterThan(
      result.cases.length * 0.8,
    );
  });

  it('is calibrated on months without a trend: the 80 % band holds the total most of the time', () => {
    const flat = backtest(BACKTEST_GRID.filter((s) => s.monthlyGrowth === 0));
    expect(flat.coverage).toBeGreaterThanOrEqual(0.7);
    expect(flat.mape).toBeLessThan(0.02);
  });

  it('gets better as the month goes on', () => {
    const series = BACKTEST_GRID.filter((s) => s.monthlyGrowth === 0.05);
    const early = backtest(series, BACKTEST_MONTHS, 5).mape;
    const late = backtest(series, BACKTEST_MONTHS, 25).mape;
    expect(late).toBeLessThan(early);
    const one = backtestCase(
      BACKTEST_GRID[0] ?? { seed: 1, base: 1, monthlyGrowth: 0, noise: 0.1, weekend: 0.4 },
      '2026-11',
    );
    expect(one.low).toBeLessThanOrEqual(one.forecast);
    expect(one.high).toBeGreaterThanOrEqual(one.forecast);
  });
});
