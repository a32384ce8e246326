import { withQuery } from '../api.js';
import { type BudgetDetail, type BudgetStatus, budgetPath, periodText, scopeText } from '../budget-api.js';
import { BurnDownChart } from '../components/burn-down-chart.js';
import { DataTable } from '../components/data-table.js';
import { PageHead } from '../components/layout.js';
import { Async, Card, Kpi } from '../components/ui.js';
import { dateTime, money, percent } from '../format.js';
import { useApi } from '../hooks.js';
import { Link, setQuery, useLocation } from '../router.js';
import { Amount, BudgetStateBadge, ShareBar, UnknownDays } from './budgets-page.js';

function MoneyKpi(props: { label: string; value: string | null; currency: string; note?: string }) {
  return (
    <Kpi
      label={props.label}
      title={props.value === null ? 'unknown' : `${props.value} ${props.currency}`}
      value={
        props.value === null ? (
          <span className="unknown">unknown</span>
        ) : (
          <>
            {money(props.value)} <span className="currency">{props.currency}</span>
          </>
        )
      }
      note={props.note}
    />
  );
}

function StatusKpis(props: { status: BudgetStatus; currency: string }) {
  const { status, currency } = props;
  const band =
    status.forecastLow !== null && status.forecastHigh !== null
      ? `${money(status.forecastLow)} – ${money(status.forecastHigh)} ${currency}`
      : undefined;
  return (
    <div className="kpis" data-kpis="budget-status">
      <MoneyKpi
        label="Spent to date"
        value={status.spendToDate}
        currency={currency}
        note={status.asOf ? `to ${status.asOf}` : 'no data yet'}
      />
      <MoneyKpi label="Budget" value={status.amount} currency={currency} />
      <Kpi label="Used" value={percent(status.shareUsed)} note={<BudgetStateBadge state={status.state} />} />
      <MoneyKpi label="Forecast for the period" value={status.forecast} currency={currency} note={band} />
      <Kpi
        label="Projected overrun"
        value={status.projectedOverrun ?? 'none'}
        note={`period ${status.periodStart} – ${status.periodEnd}`}
      />
    </div>
  );
}

export function BudgetPage(props: { id: string }) {
  const { query } = useLocation();
  const period = query.get('period');
  const state = useApi<BudgetDetail>(withQuery(budgetPath(props.id), { period }), {
    pollMs: 10000,
    keep: true,
  });
  const detail = state.data;
  const shown =
    detail?.periods.find((p) => (period ? p.periodStart === period : p.isCurrent)) ??
    detail?.periods[0] ??
    null;
  return (
    <div className="stack">
      <div className="crumbs">
        <Link to="/budgets">Budgets</Link>
        <span className="sep">/</span>
        <span>{detail?.budget.name ?? props.id}</span>
      </div>
      <PageHead
        title={detail?.budget.name ?? props.id}
        sub={
          detail
            ? `${scopeText(detail.budget.scope)} · ${periodText(detail.budget.period)} · ${money(detail.budget.amount)} ${detail.currency} · thresholds ${detail.budget.thresholds.join(' / ')} % · ${detail.budget.origin === 'file' ? `declared in ${detail.budget.declaredAt}` : 'created in the UI/API'}`
            : undefined
        }
      />
      <Async state={state} lines={6}>
        {(data) => (
          <>
            {shown ? (
              <>
                <StatusKpis status={shown} currency={data.currency} />
                <UnknownDays status={shown} />
              </>
            ) : (
              <div className="banner info">
                No status yet: the budget_status asset has not run since this budget was added.
              </div>
            )}
            <Card
              title={`Burn-down (${data.currency})${shown ? `: ${shown.periodStart} – ${shown.periodEnd}` : ''}`}
            >
              {data.days.length > 0 ? (
                <BurnDownChart
                  days={data.days}
                  amount={data.budget.amount}
                  thresholds={data.budget.thresholds}
                  currency={data.currency}
                />
              ) : (
                <div className="state">No days to draw for this period yet.</div>
              )}
              {shown?.computedAt && <div className="hint">computed {dateTime(shown.computedAt)}</div>}
            </Card>
            <Card title="Periods" flush>
              <DataTable<BudgetStatus>
                label="budget periods"
                rows={data.periods}
                rowKey={(p) => p.periodStart}
                selected={shown?.periodStart ?? null}
                onRowClick={(p) => setQuery({ period: p.isCurrent ? null : p.periodStart })}
                empty="No periods computed yet."
                columns={[
                  {
                    key: 'period',
                    label: 'Period',
                    render: (p) => (
                      <span className="nowrap">
                        {p.periodStart} – {p.periodEnd}{' '}
                        {p.isCurrent && <span className="badge run">current</span>}
                      </span>
                    ),
                  },
                  {
                    key: 'spend',
                    label: 'Spent of budget',
                    num: true,
                    render: (p) => (
                      <span className="stack-tight">
                        <Amount value={p.spendToDate} currency={data.currency} />
                        <span className="hint nowrap">
                          of <Amount value={p.amount} currency={data.currency} />
                        </span>
                      </span>
                    ),
                  },
                  { key: 'used', label: 'Used', render: (p) => <ShareBar share={p.shareUsed} /> },
                  {
                    key: 'forecast',
                    label: 'Forecast',
                    num: true,
                    render: (p) => <Amount value={p.forecast} currency={data.currency} />,
                  },
                  {
                    key: 'days',
                    label: 'Days',
                    render: (p) => (
                      <span className="nowrap">
                        {p.knownDays} known
                        {p.unknownDays > 0 && <span className="unknown">, {p.unknownDays} unknown</span>}
                      </span>
                    ),
                  },
                  {
                    key: 'state',
                    label: 'State',
                    render: (p) => (
                      <span className="stack-tight">
                        <BudgetStateBadge state={p.state} />
                        {p.projectedOverrun && (
                          <span className="hint nowrap">overrun {p.projectedOverrun}</span>
                        )}
                      </span>
                    ),
                  },
                ]}
              />
            </Card>
          </>
        )}
      </Async>
    </div>
  );
}
