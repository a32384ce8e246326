import { describe, expect, it } from 'vitest';
import type { BudgetList, BudgetStatusJson } from '../../billing/budgets/budget-report.js';
import { budgetsTable } from './budgets.js';

const status = (over: Partial<BudgetStatusJson>): BudgetStatusJson => ({
  periodStart: '2026-12-01',
  periodEnd: '2026-12-31',
  currency: 'USD',
  amount: '1000.000000',
  spendToDate: '412.345000',
  asOf: '2026-12-02',
  knownDays: 2,
  unknownDays: 0,
  unnormalizedEvents: 0,
  shareUsed: '0.412345',
  forecast: '6000.004999',
  forecastLow: '5500.000000',
  forecastHigh: '6500.000000',
  projectedOverrun: '2026-12-05',
  state: 'at_risk',
  isCurrent: true,
  computedAt: '2026-12-03T00:00:00Z',
  ...over,
});

const list = (s: BudgetStatusJson): BudgetList => ({
  currency: 'USD',
  budgets: [
    {
      id: 'platform',
      name: 'platform',
      scope: { kind: 'all' },
      period: { kind: 'monthly' },
      amount: '1000',
      thresholds: [50, 80, 100],
      origin: 'file',
      declaredAt: 'billing-pipeline.yaml:2',
      status: s,
    },
  ],
});

describe('budgetsTable', () => {
  it('shows exact amounts rounded for reading, each with its currency', () => {
    const text = budgetsTable(list(status({})));
    expect(text).toMatch(/platform\s+all\s+2026-12-01\.\.2026-12-31\s+1,000\.00 USD\s+412\.35 USD\s+41\.2%/);
    expect(text).toContain('6,000.00 [5,500.00–6,500.00] USD');
    expect(text).not.toContain('note:');
  });

  it('marks spend with unknown days as a lower bound, and an unlearnable forecast as unknown, not zero', () => {
    const text = budgetsTable(
      list(
        status({
          spendToDate: '0.000000',
          shareUsed: '0.000000',
          knownDays: 0,
          unknownDays: 2,
          unnormalizedEvents: 143,
          forecast: null,
          forecastLow: null,
          forecastHigh: null,
          projectedOverrun: null,
          state: 'ok',
        }),
      ),
    );
    expect(text).toMatch(/≥ 0\.00 USD\s+≥ 0\.0%\s+unknown\s+2 day\(s\)/);
    expect(text).toContain(
      '2 day(s) with events lacking an FX rate (143 events) are not in the spend to date',
    );
    expect(text).toContain('no day of the last 4 weeks is known, so there is no forecast');
  });
});
