/**
 * The budgets routes as the UI reads them (issue 14 contract). Money is an exact decimal string in
 * the reporting currency (`currency`); `null` means unknown (events without an FX rate), never 0.
 */

import type { z } from '@hono/zod-openapi';
import type {
  BudgetDaySchema,
  BudgetDetailSchema,
  BudgetListSchema,
  BudgetSchema,
  BudgetStatusSchema,
  BudgetWriteSchema,
} from '../../src/server/budget-schemas.js';
import { api } from './api.js';

// The server's own shapes (type-only: no server code reaches the bundle), so a renamed field
// fails the UI's type check.
export type Budget = z.infer<typeof BudgetSchema>;
export type BudgetStatus = z.infer<typeof BudgetStatusSchema>;
export type BudgetDay = z.infer<typeof BudgetDaySchema>;
export type BudgetList = z.infer<typeof BudgetListSchema>;
export type BudgetDetail = z.infer<typeof BudgetDetailSchema>;
export type BudgetWrite = z.infer<typeof BudgetWriteSchema>;
export type BudgetScopeKind = Budget['scope']['kind'];
export type BudgetState = BudgetStatus['state'];

/** The body of POST/PUT: the YAML shape as JSON. */
export interface BudgetInput {
  id: string;
  name?: string;
  scope: 'all' | Partial<Record<Exclude<BudgetScopeKind, 'all'>, string>>;
  period: 'monthly' | { from: string; to: string };
  amount: string;
  thresholds?: number[];
}

export const budgetPath = (id: string) => `/api/budgets/${encodeURIComponent(id)}`;

export function createBudget(input: BudgetInput): Promise<BudgetWrite> {
  return api<BudgetWrite>('/api/budgets', { method: 'POST', body: input });
}

export function updateBudget(id: string, input: BudgetInput): Promise<BudgetWrite> {
  return api<BudgetWrite>(budgetPath(id), { method: 'PUT', body: input });
}

export function deleteBudget(id: string): Promise<unknown> {
  return api(budgetPath(id), { method: 'DELETE' });
}

/** The server's 400 details, `[{ path, message }]`, keyed by the first path segment (the field). */
export function fieldErrors(details: unknown): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!Array.isArray(details)) return errors;
  for (const item of details) {
    if (!item || typeof item !== 'object') continue;
    const { path, message } = item as { path?: unknown; message?: unknown };
    const key = Array.isArray(path) ? String(path[0] ?? '') : String(path ?? '').split(/[.[]/)[0];
    const field = key || 'form';
    const text = String(message ?? 'invalid');
    errors[field] = errors[field] ? `${errors[field]}; ${text}` : text;
  }
  return errors;
}

export function scopeText(scope: Budget['scope']): string {
  switch (scope.kind) {
    case 'all':
      return 'everything';
    case 'user':
      return `user ${scope.value}`;
    case 'region':
      return `region ${scope.value}`;
    case 'service_tier':
      return `service tier ${scope.value}`;
    case 'resource_type':
      return `resource type ${scope.value}`;
  }
}

export function periodText(period: Budget['period']): string {
  switch (period.kind) {
    case 'monthly':
      return 'monthly';
    case 'range':
      return `${period.from} – ${period.to}`;
  }
}

/** Budget input as the form holds it, back from a stored budget (for Edit). */
export function toInput(budget: Budget): BudgetInput {
  return {
    id: budget.id,
    name: budget.name,
    scope: budget.scope.kind === 'all' ? 'all' : { [budget.scope.kind]: budget.scope.value },
    period: budget.period.kind === 'monthly' ? 'monthly' : { from: budget.period.from, to: budget.period.to },
    amount: budget.amount,
    thresholds: budget.thresholds,
  };
}
