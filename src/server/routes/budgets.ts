import { createRoute } from '@hono/zod-openapi';
import type { Budget } from '../../billing/budgets/budget.js';
import {
  type BudgetFieldError,
  loadFileBudgets,
  validateBudgetInput,
} from '../../billing/budgets/budget-config.js';
import { budgetDetail, listBudgetsWithStatus } from '../../billing/budgets/budget-report.js';
import { BUDGET_STATUS_ASSET } from '../../billing/budgets/budget-status-asset.js';
import { BudgetStore } from '../../billing/budgets/budget-store.js';
import { parseDay } from '../../orchestrator/days.js';
import { errorResponses, json } from '../api-schema.js';
import type { App } from '../app.js';
import type { AppDeps } from '../app-deps.js';
import {
  BudgetBodySchema,
  BudgetDetailSchema,
  BudgetIdParam,
  BudgetListSchema,
  BudgetPeriodQuery,
  BudgetWriteSchema,
} from '../budget-schemas.js';
import { HttpError } from '../http-error.js';

const conflict = { 409: errorResponses[400] } as const;

export function registerBudgetRoutes(app: App, deps: AppDeps): void {
  const { warehouse, config } = deps.runtime;
  const store = new BudgetStore(warehouse);
  // The graph was built from the file as it was at start: the API shows the same budgets.
  let fileBudgets: Promise<Budget[]> | null = null;
  const fromFile = () => {
    fileBudgets ??= loadFileBudgets({ setting: config.budgetsSetting, configFile: config.configFile });
    return fileBudgets;
  };
  let ready: Promise<void> | null = null;
  const setup = () => {
    ready ??= store.setup();
    return ready;
  };

  const refuseFileBudget = async (id: string) => {
    const declared = (await fromFile()).find((b) => b.id === id);
    if (declared)
      throw new HttpError(
        409,
        'budget_in_file',
        `budget ${id} is declared in ${declared.declaredAt}; edit the file`,
      );
  };
  const parsed = (body: unknown, id?: string): Budget => {
    const result = validateBudgetInput(body, id);
    if (result.ok) return result.budget;
    throw new HttpError(400, 'invalid_budget', describe(result.errors), result.errors);
  };
  // Status follows a definition at once: the next budget_status run recomputes (its cursor holds a
  // fingerprint of the definitions). A launcher that refuses leaves that to the next scheduled run.
  const queueRun = async (id: string): Promise<string | null> => {
    try {
      const { runId } = await deps.launcher.submit({
        selection: [BUDGET_STATUS_ASSET],
        trigger: 'ui',
        tags: { budget: id },
      });
      return runId;
    } catch {
      return null;
    }
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/budgets',
      tags: ['budgets'],
      summary: 'Every budget (file and API) with the status of its current period',
      responses: json(BudgetListSchema, 'The budgets, amounts in the reporting currency'),
    }),
    async (c) => {
      await setup();
      return c.json(await listBudgetsWithStatus(warehouse, await fromFile(), config.reportingCurrency), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/budgets/{id}',
      tags: ['budgets'],
      summary: "A budget, every computed period, and one period's days (actual and forecast)",
      request: { params: BudgetIdParam, query: BudgetPeriodQuery },
      responses: json(BudgetDetailSchema, 'The budget and its periods'),
    }),
    async (c) => {
      await setup();
      const { id } = c.req.valid('param');
      const { period } = c.req.valid('query');
      if (period !== undefined) {
        try {
          parseDay(period, 'period');
        } catch (error) {
          throw new HttpError(400, 'invalid_request', (error as Error).message);
        }
      }
      const budget = (await fromFile()).find((b) => b.id === id) ?? (await store.get(id));
      if (!budget) throw new HttpError(404, 'not_found', `no budget ${id}`);
      return c.json(
        await budgetDetail(warehouse, budget, { currency: config.reportingCurrency, period }),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/budgets',
      tags: ['budgets'],
      summary: 'Create a budget (validated like the file; ids are unique across file and API budgets)',
      request: { body: { content: { 'application/json': { schema: BudgetBodySchema } }, required: true } },
      responses: {
        201: { content: { 'application/json': { schema: BudgetWriteSchema } }, description: 'Created' },
        ...errorResponses,
        ...conflict,
      },
    }),
    async (c) => {
      await setup();
      const budget = parsed(c.req.valid('json'));
      await refuseFileBudget(budget.id);
      if (!(await store.create(budget)))
        throw new HttpError(
          409,
          'budget_exists',
          `budget ${budget.id} exists; PUT /api/budgets/${budget.id} to change it`,
        );
      return c.json({ budget, runId: await queueRun(budget.id) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/budgets/{id}',
      tags: ['budgets'],
      summary: 'Replace an API budget (file budgets are edited in the file)',
      request: {
        params: BudgetIdParam,
        body: { content: { 'application/json': { schema: BudgetBodySchema } }, required: true },
      },
      responses: { ...json(BudgetWriteSchema, 'Updated'), ...conflict },
    }),
    async (c) => {
      await setup();
      const { id } = c.req.valid('param');
      await refuseFileBudget(id);
      const budget = parsed(c.req.valid('json'), id);
      if (!(await store.update(budget))) throw new HttpError(404, 'not_found', `no API budget ${id}`);
      return c.json({ budget, runId: await queueRun(id) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/budgets/{id}',
      tags: ['budgets'],
      summary: 'Delete an API budget and, at the next budget_status run, its status',
      request: { params: BudgetIdParam },
      responses: { ...json(BudgetWriteSchema, 'Deleted'), ...conflict },
    }),
    async (c) => {
      await setup();
      const { id } = c.req.valid('param');
      await refuseFileBudget(id);
      const budget = await store.get(id);
      if (!budget || !(await store.delete(id))) throw new HttpError(404, 'not_found', `no API budget ${id}`);
      return c.json({ budget, runId: await queueRun(id) }, 200);
    },
  );
}

function describe(errors: readonly BudgetFieldError[]): string {
  return `invalid budget: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`;
}
