import { BACKTEST_GRID, BACKTEST_MONTHS, backtest } from '../../src/billing/budgets/forecast-backtest.js';
import { addFigure, type BenchContext } from '../context.js';

const S = 'forecast';

/**
 * Backtest of the budget forecast (docs/budgets-alerts.md, "Forecast method"): synthetic months
 * with a weekday pattern, growth of 0-20 % a month and 5 or 15 % daily noise, forecast on the 15th.
 * Pure computation, no warehouse: milliseconds. Records the mean absolute percentage error of the
 * month total and how often the 80 % band held the actual total.
 */
export async function forecast(ctx: BenchContext): Promise<void> {
  const result = backtest(BACKTEST_GRID, BACKTEST_MONTHS, 15);
  const byGrowth = [...new Set(BACKTEST_GRID.map((s) => s.monthlyGrowth))].map((growth) => {
    const sub = backtest(
      BACKTEST_GRID.filter((s) => s.monthlyGrowth === growth),
      BACKTEST_MONTHS,
      15,
    );
    return { growth, mape: sub.mape, maxError: sub.maxError, coverage: sub.coverage };
  });
  const percentErrors = result.cases.map((c) => c.absError * 100);
  addFigure(
    ctx,
    S,
    'mid-month forecast error (month total)',
    '%',
    percentErrors,
    `${result.cases.length} synthetic months`,
  );
  addFigure(ctx, S, '80 % band coverage', '%', [result.coverage * 100]);
  ctx.details[S] = {
    cases: result.cases.length,
    mape: result.mape,
    maxError: result.maxError,
    coverage: result.coverage,
    byGrowth,
  };
  ctx.log(
    `[${S}] MAPE ${(result.mape * 100).toFixed(2)} % (max ${(result.maxError * 100).toFixed(2)} %), band coverage ${(result.coverage * 100).toFixed(0)} % over ${result.cases.length} months; ` +
      byGrowth.map((g) => `+${g.growth * 100}%/month: ${(g.mape * 100).toFixed(2)} %`).join(', '),
  );
}
