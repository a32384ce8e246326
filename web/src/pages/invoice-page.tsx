import { type FormEvent, useEffect, useState } from 'react';
import { DataTable } from '../components/data-table.js';
import { PageHead } from '../components/layout.js';
import { Async, Card, ErrorBanner, Kpi } from '../components/ui.js';
import { count, money } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import {
  downloadInvoice,
  type InvoiceFormat,
  type InvoiceLine,
  type InvoicePreview,
  invoicePath,
} from '../invoice-api.js';
import { setQuery, useLocation } from '../router.js';
import { Amount } from './budgets-page.js';

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

const thisMonth = () => new Date().toISOString().slice(0, 7);

function Pickers(props: { user: string; month: string }) {
  const [user, setUser] = useState(props.user);
  const [month, setMonth] = useState(props.month || thisMonth());
  useEffect(() => setUser(props.user), [props.user]);
  useEffect(() => setMonth(props.month || thisMonth()), [props.month]);
  const badMonth = month !== '' && !MONTH.test(month);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!user.trim() || badMonth) return;
    setQuery({ user: user.trim(), month });
  };
  return (
    <form className="row invoice-pickers" onSubmit={submit} aria-label="invoice preview for">
      <label className="field">
        User
        <input value={user} onChange={(e) => setUser(e.target.value)} placeholder="1042" aria-label="user" />
      </label>
      <label className="field">
        Month
        <input
          value={month}
          onChange={(e) => setMonth(e.target.value.trim())}
          placeholder="YYYY-MM"
          maxLength={7}
          size={8}
          aria-label="month"
          aria-invalid={badMonth}
          title="a month as YYYY-MM"
        />
      </label>
      <button type="submit" className="primary" disabled={!user.trim() || badMonth}>
        Show preview
      </button>
    </form>
  );
}

function Downloads(props: { user: string; month: string }) {
  const action = useAction();
  const get = (format: InvoiceFormat) =>
    void action.run(() => downloadInvoice(props.user, props.month, format));
  return (
    <>
      <button type="button" onClick={() => get('csv')} disabled={action.pending}>
        Download CSV
      </button>
      <button type="button" onClick={() => get('json')} disabled={action.pending}>
        Download JSON
      </button>
      {action.error && <span className="field-error">{action.error.message}</span>}
    </>
  );
}

function Preview(props: { data: InvoicePreview }) {
  const { data } = props;
  const c = data.currency;
  return (
    <>
      {data.warnings.length > 0 && (
        <div className="banner warn" role="alert" aria-label="invoice warnings">
          <b>
            {data.warnings.length === 1 ? 'A warning' : `${data.warnings.length} warnings`} about this preview
          </b>
          <ul>
            {data.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="kpis" data-kpis="invoice-totals">
        <Kpi
          label={data.total.complete ? 'Total to date' : 'Total to date (incomplete)'}
          title={data.total.amount === null ? 'unknown' : `${data.total.amount} ${c}`}
          value={
            data.total.amount === null ? (
              <span className="unknown">unknown</span>
            ) : (
              <span data-invoice-total={data.total.amount}>
                {money(data.total.amount)} <span className="currency">{c}</span>
              </span>
            )
          }
          note={
            data.total.unknownEvents > 0
              ? `${count(data.total.unknownEvents)} events without an FX rate are not in it`
              : data.asOf
                ? `events to ${data.asOf}`
                : 'no events'
          }
        />
        <Kpi
          label="Forecast for the month"
          title={data.forecast?.total ? `${data.forecast.total} ${c}` : undefined}
          value={
            data.forecast?.total ? (
              <>
                {money(data.forecast.total)} <span className="currency">{c}</span>
              </>
            ) : (
              '—'
            )
          }
          note={
            data.forecast?.low && data.forecast.high
              ? `${money(data.forecast.low)} – ${money(data.forecast.high)} ${c}`
              : 'no forecast for this month'
          }
        />
        <Kpi label="Lines" value={count(data.lines.length)} />
      </div>
      <Card title={`Lines for user ${data.user}, ${data.month} (${c})`} flush>
        <DataTable<InvoiceLine>
          label="invoice lines"
          rows={data.lines}
          rowKey={(l) => `${l.serviceTier}|${l.resourceType}|${l.operationType}`}
          empty="No events for this user in this month."
          columns={[
            { key: 'serviceTier', label: 'Service tier' },
            { key: 'resourceType', label: 'Resource type' },
            { key: 'operationType', label: 'Operation' },
            { key: 'events', label: 'Events', num: true, render: (l) => count(l.events) },
            {
              key: 'amount',
              label: `Amount (${c})`,
              num: true,
              render: (l) => (
                <span className="stack-tight">
                  <Amount value={l.amount} currency={c} />
                  {l.unnormalizedEvents > 0 && (
                    <span className="unknown">{count(l.unnormalizedEvents)} events without a rate</span>
                  )}
                </span>
              ),
            },
            {
              key: 'original',
              label: 'Original amounts',
              wrap: true,
              render: (l) => (
                <span className="row">
                  {l.original.map((o) => (
                    <span key={o.currency} className="nowrap" title={`${o.amount} ${o.currency}`}>
                      {money(o.amount)} {o.currency}
                    </span>
                  ))}
                </span>
              ),
            },
          ]}
        />
      </Card>
      <Card title={`Rates used (to ${c})`} flush>
        <DataTable
          label="rates used"
          rows={data.rates}
          rowKey={(r) => `${r.currency}|${r.rateDate}`}
          empty={`Every event is in ${c}: no rate was needed.`}
          columns={[
            { key: 'currency', label: 'Currency' },
            { key: 'rateDate', label: 'Rate date' },
            { key: 'rate', label: `Rate (${c} per unit)`, num: true, render: (r) => <code>{r.rate}</code> },
          ]}
        />
      </Card>
    </>
  );
}

export function InvoicePage() {
  const { query } = useLocation();
  const user = query.get('user') ?? '';
  const month = query.get('month') ?? '';
  const ready = user !== '' && MONTH.test(month);
  const state = useApi<InvoicePreview>(ready ? invoicePath(user, month) : null);
  return (
    <div className="stack">
      <PageHead
        title="Invoice preview"
        sub="A user's month to date by service tier, resource type and operation: exact amounts, events, the forecast total and the rates used."
      />
      <Card>
        <div className="row">
          <Pickers user={user} month={month} />
          <span className="grow" />
          {ready && <Downloads user={user} month={month} />}
        </div>
      </Card>
      {ready ? (
        <>
          <ErrorBanner error={state.data ? state.error : null} />
          <Async state={state} lines={6}>
            {(data) => <Preview data={data} />}
          </Async>
        </>
      ) : (
        <div className="state">Pick a user and a month.</div>
      )}
    </div>
  );
}
