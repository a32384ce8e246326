import { validateBudgetInput } from '../billing/budgets/budget-config.js';
import { BudgetStore } from '../billing/budgets/budget-store.js';
import type { Warehouse } from '../warehouse/warehouse.js';

/**
 * The demo's spend over its last 28 known days and its biggest user of the latest month, in the
 * reporting currency: exact DECIMAL sums, divided in SQL like every other amount.
 */
const DEMO_SPEND = `WITH recent AS (
    SELECT day, total_normalized_credit_usage AS spend FROM daily_aggregates
    WHERE total_normalized_credit_usage IS NOT NULL ORDER BY day DESC LIMIT 28
  ),
  latest AS (SELECT max(day) AS day FROM daily_aggregates),
  top_user AS (
    SELECT u.user_id, sum(u.total_normalized_credit_usage) AS spend
    FROM user_daily_aggregates u, latest
    WHERE date_trunc('month', u.day) = date_trunc('month', latest.day)
      AND u.total_normalized_credit_usage IS NOT NULL
    GROUP BY u.user_id ORDER BY spend DESC, u.user_id LIMIT 1
  )
  -- Whole amounts: 30 days of the run-rate less 5 %, and the top user's month so far over 0.87.
  SELECT CAST(floor(sum(spend) * 285 / (10 * count(*))) AS VARCHAR) AS platform_amount,
    (SELECT CAST(user_id AS VARCHAR) FROM top_user) AS user_id,
    (SELECT CAST(ceil(spend * 100 / 87) AS VARCHAR) FROM top_user) AS user_amount
  FROM recent`;

/**
 * Two budgets for the demo's dashboard, made once through the same store the API uses (so the
 * Budgets page can edit them): the whole platform's month, set a little under what the run-rate
 * projects, so it shows "at risk" and a forecast alert; and the biggest user's month, set so that
 * the spend so far has crossed 50 and 80 %. Amounts follow the generated data, whatever the date.
 */
export async function seedDemoBudgets(warehouse: Warehouse): Promise<string[]> {
  const store = new BudgetStore(warehouse);
  await store.setup();
  if ((await store.list()).length > 0) return [];
  const [row] = await warehouse.all<{
    platform_amount: string | null;
    user_id: string | null;
    user_amount: string | null;
  }>(DEMO_SPEND);
  if (!row?.platform_amount || row.platform_amount === '0') return [];
  const bodies: unknown[] = [
    {
      id: 'platform-monthly',
      name: 'Platform, monthly',
      scope: 'all',
      period: 'monthly',
      amount: row.platform_amount,
      thresholds: [50, 80, 100],
    },
  ];
  if (row.user_id && row.user_amount && row.user_amount !== '0')
    bodies.push({
      id: `user-${row.user_id}`,
      name: `User ${row.user_id}, monthly`,
      scope: { user: row.user_id },
      period: 'monthly',
      amount: row.user_amount,
    });
  const made: string[] = [];
  for (const body of bodies) {
    const parsed = validateBudgetInput(body);
    if (parsed.ok && (await store.create(parsed.budget))) made.push(parsed.budget.id);
  }
  return made;
}
