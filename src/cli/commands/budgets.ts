import type { Command } from 'commander';
import { periodLabel, scopeLabel } from '../../billing/budgets/budget.js';
import { loadFileBudgets } from '../../billing/budgets/budget-config.js';
import { type BudgetList, listBudgetsWithStatus } from '../../billing/budgets/budget-report.js';
import { toMicros } from '../../billing/budgets/decimal.js';
import { type CommonOptions, commonOptions, withRuntime } from '../context.js';
import { jsonText, toTable } from '../format.js';

export const BUDGETS_DESCRIPTION =
  'List budgets (file and API) with the current period: spend to date, share used, forecast with its band, state';

export function registerBudgets(program: Command): void {
  commonOptions(
    program.command('budgets').description(BUDGETS_DESCRIPTION).option('--json', 'print the budgets as JSON'),
  )
    .addHelpText(
      'after',
      `
Amounts are exact decimals in the reporting currency. Status comes from the budget_status asset
(run \`billing-pipeline materialize\`); a day with events lacking an FX rate is unknown, not zero, and
is counted in the "unknown" column. The forecast is a weekday run-rate with an 80 % band
(docs/budgets-alerts.md).

Examples:
  $ billing-pipeline budgets
  $ billing-pipeline budgets --json`,
    )
    .action(async (flags: CommonOptions & { json?: boolean }) => {
      const list = await withRuntime(flags, async (runtime) =>
        listBudgetsWithStatus(
          runtime.warehouse,
          await loadFileBudgets({
            setting: runtime.config.budgetsSetting,
            configFile: runtime.config.configFile,
          }),
          runtime.config.reportingCurrency,
        ),
      );
      process.stdout.write(flags.json ? `${jsonText(list)}\n` : budgetsTable(list));
    });
}

/** The text table: one line per budget, every amount labelled with the currency. */
export function budgetsTable(list: BudgetList): string {
  if (list.budgets.length === 0)
    return 'No budgets. Declare them under budgets: in billing-pipeline.yaml or POST /api/budgets (docs/budgets-alerts.md).\n';
  const cur = list.currency;
  const rows = list.budgets.map((b) => {
    const s = b.status;
    const band =
      s?.forecastLow && s.forecastHigh ? ` [${money(s.forecastLow)}–${money(s.forecastHigh)}]` : '';
    return [
      b.id,
      scopeLabel(b.scope),
      s ? `${s.periodStart}..${s.periodEnd}` : periodLabel(b.period),
      `${money(b.amount)} ${cur}`,
      // Unknown days are left out of the spend: what is shown is a lower bound, and says so.
      s ? `${s.unknownDays > 0 ? '≥ ' : ''}${money(s.spendToDate)} ${cur}` : 'not computed',
      s ? `${s.unknownDays > 0 ? '≥ ' : ''}${(Number(s.shareUsed) * 100).toFixed(1)}%` : null,
      s?.forecast ? `${money(s.forecast)}${band} ${cur}` : s ? 'unknown' : null,
      s ? (s.unknownDays > 0 ? `${s.unknownDays} day(s)` : '0') : null,
      s?.state ?? null,
      s?.projectedOverrun ?? null,
    ];
  });
  const table = toTable(
    [
      'id',
      'scope',
      'period',
      'amount',
      'spend to date',
      'used',
      'forecast [low–high]',
      'unknown',
      'state',
      'projected overrun',
    ],
    rows,
  );
  const unknown = list.budgets.filter((b) => (b.status?.unknownDays ?? 0) > 0);
  const notes = unknown.map(
    (b) =>
      `note: ${b.id}: ${b.status?.unknownDays} day(s) with events lacking an FX rate (${b.status?.unnormalizedEvents} events) are not in the spend to date; ${
        b.status?.forecast
          ? 'the forecast estimates them'
          : 'no day of the last 4 weeks is known, so there is no forecast'
      } (set fx_source / BILLING_FX_SOURCE)`,
  );
  return `${[table, ...notes].join('\n')}\n`;
}

/** Two decimals (half away from zero) with thousands separators, for reading; the JSON keeps the exact value. */
function money(value: string): string {
  const micros = toMicros(value);
  const negative = micros < 0n;
  const cents = ((negative ? -micros : micros) + 5_000n) / 10_000n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
}
