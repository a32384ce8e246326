import { DataTable } from '../components/data-table.js';
import { FxNotice } from '../components/fx-notice.js';
import {
  BreakdownBars,
  fillDays,
  MixDonut,
  missingDays,
  SpendVolumeChart,
  SuccessChart,
} from '../components/insight-charts.js';
import { PageHead } from '../components/layout.js';
import { Async, Card, Kpi } from '../components/ui.js';
import { count, exactMoney, money, moneyText, percent } from '../format.js';
import { useGet } from '../hooks.js';
import { setQuery, useLocation } from '../router.js';
import { type CurrencyTotal, DIMENSIONS, type Dimension, type Filters, type Money } from '../types.js';
import { DrillDown } from './drill-down.js';
import { FilterBar, RangePicker } from './insights-filters.js';
import { RejectedFilesBanner } from './rejected-files-banner.js';

/** Where the drill-down panel opens: below the KPI tiles, the spend chart or the success chart. */
type DrillAt = 'kpis' | 'spend' | 'success';

/** A money figure for a table cell: rounded with its currency, the exact value on hover; "unknown" flagged. */
export function MoneyCell(props: { value: Money; digits?: number }) {
  if (props.value.amount === null) {
    return (
      <span className="unknown" title="an event behind this figure has no FX rate">
        unknown
      </span>
    );
  }
  return <span title={exactMoney(props.value)}>{moneyText(props.value, props.digits)}</span>;
}

function readFilters(query: URLSearchParams): Filters {
  const filters: Filters = {};
  for (const key of ['from', 'to', ...DIMENSIONS] as const) {
    const value = query.get(key);
    if (value) filters[key] = value;
  }
  return filters;
}

export function InsightsPage() {
  const { query } = useLocation();
  const filters = readFilters(query);
  const options = useGet('/api/insights/options');
  const q = (extra: Record<string, string | number> = {}) => ({ ...filters, ...extra });
  const summary = useGet('/api/insights/summary', q(), { pollMs: 15000, keep: true });
  const daily = useGet('/api/insights/daily', q(), { pollMs: 15000, keep: true });
  const users = useGet('/api/insights/breakdown/user_id', q({ order: 'events', limit: 10 }), {
    keep: true,
  });
  const regions = useGet('/api/insights/breakdown/region', q({ order: 'spend', limit: 12 }), {
    keep: true,
  });
  const operations = useGet('/api/insights/breakdown/operation_type', q({ order: 'events', limit: 12 }), {
    keep: true,
  });
  const tiers = useGet('/api/insights/breakdown/service_tier', q({ order: 'spend', limit: 12 }), {
    keep: true,
  });

  // `at` names the chart that opened the drill-down: the panel opens right below it, not at the top.
  const drillDay = (at: DrillAt) => (day: string) =>
    setQuery({ drill: 'day', day, at, file: null, offset: null });
  const drillAt = (query.get('at') as DrillAt | null) ?? 'kpis';
  const drill = (at: DrillAt) => query.get('drill') && drillAt === at && <DrillDown filters={filters} />;
  const range = { from: filters.from, to: filters.to };
  const filter = (dimension: Dimension, value: string) =>
    setQuery({ [dimension]: value, drill: null, day: null, file: null });
  const s = summary.data;
  const unknownNote = (n: number) => `${count(n)} events have no FX rate`;

  return (
    <div className="stack">
      <PageHead
        title="Insights"
        sub="Spend and usage from the billing exports. Every figure is exact and clicks through to the files and lines it came from."
        actions={<RangePicker filters={filters} options={options.data} />}
      />
      <FxNotice />
      <FilterBar filters={filters} options={options.data} />
      <RejectedFilesBanner />
      <div className="kpis-wrap">
        <div className="kpis">
          <Kpi
            label={s ? `Spend (${s.currency})` : 'Spend'}
            value={s ? <KpiMoney value={s.spend} /> : '…'}
            note={
              s
                ? s.spend.amount === null
                  ? unknownNote(s.unnormalized_events)
                  : `exact ${exactMoney(s.spend)}`
                : undefined
            }
            onClick={() => setQuery({ drill: 'days', day: null, file: null, at: null })}
            title="Show the days behind this total"
          />
          <Kpi
            label="Events"
            value={s ? count(s.event_count) : '…'}
            note={s ? `${count(s.failure_count)} failed` : undefined}
            onClick={() => setQuery({ drill: 'days', day: null, file: null, at: null })}
          />
          <Kpi label="Users" value={s ? count(s.unique_users) : '…'} note="distinct in range" />
          <Kpi
            label="Success rate"
            value={s ? percent(s.success_rate, 2) : '…'}
            note={s ? `${count(s.success_count)} succeeded` : undefined}
          />
          <Kpi
            label="Avg per day"
            value={s ? <KpiMoney value={s.avg_daily_spend} /> : '…'}
            note={s ? `${count(s.days)} days with data` : undefined}
            onClick={() => setQuery({ drill: 'days', day: null, file: null, at: null })}
          />
          <Kpi
            label="Avg per event"
            value={s ? <KpiMoney value={s.avg_spend_per_event} digits={4} /> : '…'}
            note={s?.first_day ? `${s.first_day} … ${s.last_day}` : 'no data in range'}
          />
        </div>
      </div>
      {drill('kpis')}
      <Card title="Spend by currency" flush>
        <Async
          state={summary}
          lines={3}
          empty={(d) => (d.by_currency.length === 0 ? 'No billing events in this range.' : null)}
        >
          {(d) => (
            <CurrencyTable
              rows={d.by_currency}
              reporting={d.currency}
              onPick={(k) => filter('currency', k)}
            />
          )}
        </Async>
      </Card>
      <Card
        title="Spend and volume per day"
        actions={<span className="hint">click a day for its files and source lines</span>}
      >
        <Async
          state={daily}
          lines={6}
          empty={(d) => (d.days.length === 0 ? 'No billing events in this range.' : null)}
        >
          {(d) => {
            const unknown = d.days.filter((day) => day.spend.amount === null).map((day) => day.day);
            const empty = missingDays(fillDays(d.days, range));
            return (
              <>
                <NoDataNote days={empty} />
                {unknown.length > 0 && (
                  <div className="hint unknown" role="note" aria-label="days with unknown spend">
                    {unknown.length} {unknown.length === 1 ? 'day has' : 'days have'} unknown {d.currency}{' '}
                    spend (events without an FX rate; drawn as gaps):{' '}
                    {unknown.length > 6 ? `${unknown.slice(0, 6).join(', ')} …` : unknown.join(', ')}
                  </div>
                )}
                <SpendVolumeChart
                  days={d.days}
                  currency={d.currency}
                  range={range}
                  onDay={drillDay('spend')}
                />
              </>
            );
          }}
        </Async>
      </Card>
      {drill('spend')}
      <div className="grid-2">
        <Card title="Top users by activity" actions={<span className="hint">click to filter</span>}>
          <Async state={users} lines={5} empty={(d) => (d.rows.length === 0 ? 'No users.' : null)}>
            {(d) => (
              <BreakdownBars
                name="top-users"
                rows={d.rows}
                measure="events"
                onPick={(k) => filter('user_id', k)}
                colorIndex={4}
              />
            )}
          </Async>
        </Card>
        <Card
          title={`Spend by region${regions.data ? ` (${regions.data.currency})` : ''}`}
          actions={<span className="hint">click to filter</span>}
        >
          <Async state={regions} lines={5} empty={(d) => (d.rows.length === 0 ? 'No regions.' : null)}>
            {(d) => {
              // Without any known spend there is nothing to rank by money: show volume, and say so.
              const known = d.rows.some((r) => r.spend.amount !== null);
              return (
                <>
                  {!known && (
                    <div className="hint unknown">spend unknown (no FX rates): regions by events</div>
                  )}
                  <BreakdownBars
                    name="regions"
                    rows={d.rows}
                    measure={known ? 'spend' : 'events'}
                    onPick={(k) => filter('region', k)}
                  />
                </>
              );
            }}
          </Async>
        </Card>
        <Card title="Operation mix">
          <Async state={operations} lines={5} empty={(d) => (d.rows.length === 0 ? 'No operations.' : null)}>
            {(d) => <MixDonut rows={d.rows} onPick={(k) => filter('operation_type', k)} />}
          </Async>
        </Card>
        <Card title="Success rate per day">
          <Async state={daily} lines={5} empty={(d) => (d.days.length === 0 ? 'No data.' : null)}>
            {(d) => <SuccessChart days={d.days} range={range} onDay={drillDay('success')} />}
          </Async>
        </Card>
      </div>
      {drill('success')}
      <Card title="Service tier performance" flush>
        <Async state={tiers} lines={4}>
          {(d) => (
            <DataTable
              label="tier performance"
              rows={d.rows}
              rowKey={(r) => String(r.key)}
              onRowClick={(r) => r.key !== null && filter('service_tier', String(r.key))}
              columns={[
                { key: 'key', label: 'Tier', render: (r) => <b>{String(r.key ?? '(none)')}</b> },
                { key: 'event_count', label: 'Events', num: true, render: (r) => count(r.event_count) },
                {
                  key: 'spend',
                  label: `Spend (${d.currency})`,
                  num: true,
                  render: (r) => <MoneyCell value={r.spend} />,
                },
                {
                  key: 'avg_spend_per_event',
                  label: `Avg per event (${d.currency})`,
                  num: true,
                  render: (r) => <MoneyCell value={r.avg_spend_per_event} digits={4} />,
                },
                {
                  key: 'success_rate',
                  label: 'Success rate',
                  num: true,
                  render: (r) => percent(r.success_rate, 2),
                },
                {
                  key: 'bar',
                  label: 'Share of spend',
                  render: (r) => <ShareBar share={r.share_of_spend} />,
                },
              ]}
            />
          )}
        </Async>
      </Card>
    </div>
  );
}

/** A rounded, exact money figure for a KPI tile; "unknown" is flagged, never shown as zero. */
function KpiMoney(props: { value: Money; digits?: number }) {
  if (props.value.amount === null) return <span className="unknown">unknown</span>;
  return (
    <>
      {money(props.value.amount, props.digits)} <span className="currency">{props.value.currency}</span>
    </>
  );
}

/** Each currency's exact total as billed, next to the same in the reporting currency. Never one sum. */
function CurrencyTable(props: { rows: CurrencyTotal[]; reporting: string; onPick(currency: string): void }) {
  return (
    <DataTable
      label="spend by currency"
      rows={props.rows}
      rowKey={(r) => r.currency}
      onRowClick={(r) => props.onPick(r.currency)}
      columns={[
        { key: 'currency', label: 'Currency', render: (r) => <b>{r.currency}</b> },
        { key: 'event_count', label: 'Events', num: true, render: (r) => count(r.event_count) },
        {
          key: 'original',
          label: 'Total as billed',
          num: true,
          render: (r) => <span className="mono">{exactMoney(r.original)}</span>,
        },
        {
          key: 'spend',
          label: `In ${props.reporting}`,
          num: true,
          render: (r) => <MoneyCell value={r.spend} />,
        },
        {
          key: 'unnormalized_events',
          label: 'Without FX rate',
          num: true,
          render: (r) =>
            r.unnormalized_events > 0 ? <span className="unknown">{count(r.unnormalized_events)}</span> : '0',
        },
      ]}
    />
  );
}

function ShareBar(props: { share: string | null }) {
  if (props.share === null) return <span className="unknown">unknown</span>;
  const share = Math.max(0, Math.min(1, Number(props.share)));
  return (
    <div className="row" style={{ gap: 8, flexWrap: 'nowrap' }}>
      <div style={{ width: 120, height: 8, background: 'var(--panel-2)', borderRadius: 4 }}>
        <div
          style={{ width: `${share * 100}%`, height: '100%', background: 'var(--chart-1)', borderRadius: 4 }}
        />
      </div>
      <span className="hint">{(share * 100).toFixed(1)}%</span>
    </div>
  );
}

/** Names the days of the range without any billing events: drawn as gaps, never as zero spend. */
function NoDataNote(props: { days: string[] }) {
  if (props.days.length === 0) return null;
  const shown = props.days.length > 6 ? `${props.days.slice(0, 6).join(', ')} …` : props.days.join(', ');
  return (
    <div className="hint no-data" role="note" aria-label="days without data">
      {props.days.length} {props.days.length === 1 ? 'day has' : 'days have'} no billing events (no data,
      drawn as gaps, not zero): {shown}
    </div>
  );
}
