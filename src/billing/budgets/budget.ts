/** Spend budgets: declared in billing-pipeline.yaml (`budgets:`) or created through the API. */

export type BudgetScopeKind = 'all' | 'user' | 'region' | 'service_tier' | 'resource_type';

export type BudgetScope =
  | { kind: 'all' }
  | { kind: 'user' | 'region' | 'service_tier' | 'resource_type'; value: string };

export type BudgetPeriod = { kind: 'monthly' } | { kind: 'range'; from: string; to: string };

export interface Budget {
  id: string;
  name: string;
  scope: BudgetScope;
  period: BudgetPeriod;
  /** Reporting currency, DECIMAL(38,6) as a string. */
  amount: string;
  /** Percent of the amount, ascending. */
  thresholds: number[];
  origin: 'file' | 'api';
  /** 'billing-pipeline.yaml:12' or 'api' */
  declaredAt: string;
}

export const DEFAULT_THRESHOLDS: readonly number[] = [50, 80, 100];

export const BUDGET_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function scopeLabel(scope: BudgetScope): string {
  return scope.kind === 'all' ? 'all' : `${scope.kind}=${scope.value}`;
}

export function periodLabel(period: BudgetPeriod): string {
  return period.kind === 'monthly' ? 'monthly' : `${period.from}..${period.to}`;
}

/** The period of `budget` containing `day` (a monthly budget's calendar month). */
export function periodContaining(period: BudgetPeriod, day: string): { start: string; end: string } {
  switch (period.kind) {
    case 'monthly':
      return monthOf(day);
    case 'range':
      return { start: period.from, end: period.to };
    default: {
      const unknown: never = period;
      throw new Error(`unknown budget period ${JSON.stringify(unknown)}`);
    }
  }
}

export function monthOf(day: string): { start: string; end: string } {
  const [y, m] = day.split('-').map(Number);
  const year = y ?? 1970;
  const month = m ?? 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const mm = String(month).padStart(2, '0');
  return { start: `${year}-${mm}-01`, end: `${year}-${mm}-${String(last).padStart(2, '0')}` };
}

/** The budget as the YAML / API body would spell it (what a fingerprint and the API return). */
export function budgetBody(budget: Budget): Record<string, unknown> {
  return {
    id: budget.id,
    name: budget.name,
    scope: budget.scope.kind === 'all' ? 'all' : { [budget.scope.kind]: budget.scope.value },
    period: budget.period.kind === 'monthly' ? 'monthly' : { from: budget.period.from, to: budget.period.to },
    amount: budget.amount,
    thresholds: budget.thresholds,
  };
}
