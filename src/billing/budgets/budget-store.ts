import type { SqlSession, SqlValue, Warehouse } from '../../warehouse/warehouse.js';
import { type Budget, type BudgetPeriod, type BudgetScope, DEFAULT_THRESHOLDS } from './budget.js';
import {
  CREATE_BUDGET_STATUS,
  CREATE_BUDGET_STATUS_DAYS,
  CREATE_BUDGETS,
  DELETE_BUDGET,
  GET_BUDGET,
  INSERT_BUDGET,
  LIST_BUDGETS,
  UPDATE_BUDGET,
} from './budget-sql.js';

export { validateBudgetInput } from './budget-config.js';

interface BudgetRow {
  id: string;
  name: string;
  scope_kind: string;
  scope_value: string | null;
  period_kind: string;
  period_from: string | null;
  period_to: string | null;
  amount: string;
  thresholds: string;
}

/** Creates the budget tables (the store's and the asset's): the server may read them before any run. */
export async function setupBudgetTables(session: SqlSession): Promise<void> {
  for (const sql of [CREATE_BUDGETS, CREATE_BUDGET_STATUS, CREATE_BUDGET_STATUS_DAYS])
    await session.exec(sql);
}

/** Budgets created through the API, in the `budgets` table. */
export class BudgetStore {
  constructor(private readonly warehouse: Warehouse) {}

  async setup(): Promise<void> {
    await setupBudgetTables(this.warehouse);
  }

  async list(): Promise<Budget[]> {
    return (await this.warehouse.all<BudgetRow>(LIST_BUDGETS)).map(fromRow);
  }

  async get(id: string): Promise<Budget | null> {
    const [row] = await this.warehouse.all<BudgetRow>(GET_BUDGET, [id]);
    return row ? fromRow(row) : null;
  }

  /** False when the id is taken (the primary key decides, so two writers cannot both create it). */
  async create(budget: Budget): Promise<boolean> {
    return this.warehouse.transaction(async (tx) => {
      await tx.lock('budgets');
      const [existing] = await tx.all<BudgetRow>(GET_BUDGET, [budget.id]);
      if (existing) return false;
      await tx.exec(INSERT_BUDGET, values(budget));
      return true;
    });
  }

  async update(budget: Budget): Promise<boolean> {
    return this.warehouse.transaction(async (tx) => {
      await tx.lock('budgets');
      const [existing] = await tx.all<BudgetRow>(GET_BUDGET, [budget.id]);
      if (!existing) return false;
      await tx.exec(UPDATE_BUDGET, values(budget));
      return true;
    });
  }

  async delete(id: string): Promise<boolean> {
    return this.warehouse.transaction(async (tx) => {
      await tx.lock('budgets');
      const [existing] = await tx.all<BudgetRow>(GET_BUDGET, [id]);
      if (!existing) return false;
      await tx.exec(DELETE_BUDGET, [id]);
      return true;
    });
  }
}

/** File budgets, then API budgets whose id no file budget holds (the file wins a clash). */
export async function allBudgets(fileBudgets: readonly Budget[], warehouse: Warehouse): Promise<Budget[]> {
  const fileIds = new Set(fileBudgets.map((b) => b.id));
  const api = await new BudgetStore(warehouse).list();
  return [...fileBudgets, ...api.filter((b) => !fileIds.has(b.id))];
}

function values(b: Budget): SqlValue[] {
  return [
    b.id,
    b.name,
    b.scope.kind,
    b.scope.kind === 'all' ? null : b.scope.value,
    b.period.kind,
    b.period.kind === 'range' ? b.period.from : null,
    b.period.kind === 'range' ? b.period.to : null,
    b.amount,
    JSON.stringify(b.thresholds),
  ];
}

function fromRow(row: BudgetRow): Budget {
  const scope: BudgetScope =
    row.scope_kind === 'all'
      ? { kind: 'all' }
      : { kind: row.scope_kind as Exclude<BudgetScope['kind'], 'all'>, value: row.scope_value ?? '' };
  const period: BudgetPeriod =
    row.period_kind === 'range' && row.period_from && row.period_to
      ? { kind: 'range', from: row.period_from, to: row.period_to }
      : { kind: 'monthly' };
  let thresholds: number[] = [...DEFAULT_THRESHOLDS];
  try {
    const parsed: unknown = JSON.parse(row.thresholds);
    if (Array.isArray(parsed) && parsed.every((t) => typeof t === 'number')) thresholds = parsed;
  } catch {
    // A hand-edited row keeps the defaults rather than hiding the budget.
  }
  return {
    id: row.id,
    name: row.name,
    scope,
    period,
    amount: trimAmount(row.amount),
    thresholds,
    origin: 'api',
    declaredAt: 'api',
  };
}

/** "50000.000000" back to the "50000" it was written as. */
function trimAmount(amount: string): string {
  return amount.includes('.') ? amount.replace(/0+$/, '').replace(/\.$/, '') : amount;
}
