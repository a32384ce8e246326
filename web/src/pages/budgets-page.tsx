import { useState } from 'react';
import {
  type Budget,
  type BudgetList,
  type BudgetState,
  type BudgetStatus,
  type BudgetWrite,
  deleteBudget,
  periodText,
  scopeText,
} from '../budget-api.js';
import { DataTable } from '../components/data-table.js';
import { PageHead } from '../components/layout.js';
import { Async, Card, ErrorBanner } from '../components/ui.js';
import { money, percent } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import { Link } from '../router.js';
import { BudgetForm } from './budget-form.js';

type Row = BudgetList['budgets'][number];

const STATE_LABEL: Record<BudgetState, { tone: string; text: string }> = {
  ok: { tone: 'ok', text: 'on track' },
  at_risk: { tone: 'warn', text: 'at risk' },
  over: { tone: 'fail', text: 'over budget' },
};

export function BudgetStateBadge(props: { state: BudgetState }) {
  const { tone, text } = STATE_LABEL[props.state];
  return <span className={`badge ${tone}`}>{text}</span>;
}

/** A money figure for reading (2 decimals) with its currency; the exact string in the tooltip. */
export function Amount(props: { value: string | null | undefined; currency: string }) {
  if (props.value === null || props.value === undefined) return <span className="unknown">unknown</span>;
  return (
    <span className="nowrap" title={`${props.value} ${props.currency}`}>
      {money(props.value)} <span className="hint">{props.currency}</span>
    </span>
  );
}

/** The share used as a bar (capped at the track's end) and a percent. */
export function ShareBar(props: { share: string | null }) {
  if (props.share === null) return <span className="unknown">unknown</span>;
  const ratio = Number(props.share);
  const tone = ratio >= 1 ? 'over' : ratio >= 0.8 ? 'high' : 'ok';
  return (
    <span className="share-used" title={`${props.share} of the amount`}>
      <span className={`share-track ${tone}`} aria-hidden="true">
        <span style={{ width: `${Math.min(ratio, 1) * 100}%` }} />
      </span>
      <span className="share-text">{percent(props.share)}</span>
    </span>
  );
}

/** Unknown is not zero: days whose events have no FX rate are left out of the spend, and said so. */
export function UnknownDays(props: { status: BudgetStatus }) {
  if (props.status.unknownDays <= 0) return null;
  const days = props.status.unknownDays;
  return (
    <span
      className="unknown budget-unknown"
      role="note"
      aria-label="unknown days"
      title={`${props.status.unnormalizedEvents} events have no FX rate: their days are left out of the spend, not counted as zero`}
    >
      {days} {days === 1 ? 'day' : 'days'} unknown
    </span>
  );
}

function Forecast(props: { status: BudgetStatus; currency: string }) {
  const { status, currency } = props;
  return (
    <span className="stack-tight">
      <Amount value={status.forecast} currency={currency} />
      {status.forecastLow !== null && status.forecastHigh !== null && (
        <span className="hint nowrap">
          {money(status.forecastLow)} – {money(status.forecastHigh)}
        </span>
      )}
    </span>
  );
}

function Actions(props: { budget: Budget; onEdit(): void; onDeleted(): void }) {
  const [confirming, setConfirming] = useState(false);
  const action = useAction();
  if (props.budget.origin === 'file') {
    return (
      <span className="hint stack-tight" title="a file budget is edited in the file">
        <span>declared in</span>
        <code className="declared-at">{props.budget.declaredAt}</code>
      </span>
    );
  }
  if (confirming) {
    return (
      <fieldset className="row nowrap" aria-label={`confirm delete ${props.budget.id}`}>
        <span>Delete {props.budget.id}?</span>
        <button
          type="button"
          className="danger"
          disabled={action.pending}
          onClick={() =>
            void action.run(async () => {
              await deleteBudget(props.budget.id);
              props.onDeleted();
            })
          }
        >
          Yes, delete
        </button>
        <button type="button" onClick={() => setConfirming(false)}>
          Keep
        </button>
        {action.error && <span className="field-error">{action.error.message}</span>}
      </fieldset>
    );
  }
  return (
    <span className="row nowrap">
      <button type="button" onClick={props.onEdit} aria-label={`edit ${props.budget.id}`}>
        Edit
      </button>
      <button
        type="button"
        className="danger"
        onClick={() => setConfirming(true)}
        aria-label={`delete ${props.budget.id}`}
      >
        Delete
      </button>
    </span>
  );
}

export function BudgetsPage() {
  const state = useApi<BudgetList>('/api/budgets', { pollMs: 5000 });
  const [form, setForm] = useState<{ editing: Budget | null } | null>(null);
  const [notice, setNotice] = useState<{ text: string; runId?: string | null } | null>(null);
  const currency = state.data?.currency ?? '';
  const done = (verb: string) => (result: BudgetWrite) => {
    setForm(null);
    setNotice({
      text: `Budget ${result.budget.id} ${verb}; its status comes from the next budget_status run.`,
      runId: result.runId,
    });
    state.reload();
  };
  return (
    <div className="stack">
      <PageHead
        title="Budgets"
        sub={`Spend to date against each budget's amount${currency ? ` in ${currency}` : ''}, with a forecast to the end of its period.`}
        actions={
          <button
            type="button"
            className="primary"
            onClick={() => setForm({ editing: null })}
            disabled={form !== null}
          >
            New budget
          </button>
        }
      />
      {notice && (
        <div className="banner info row" role="status">
          <span className="grow">
            {notice.text}{' '}
            {notice.runId && <Link to={`/runs/${encodeURIComponent(notice.runId)}`}>Open the run</Link>}
          </span>
          <button type="button" className="ghost" onClick={() => setNotice(null)} aria-label="dismiss">
            ✕
          </button>
        </div>
      )}
      {form && state.data && (
        <BudgetForm
          key={form.editing?.id ?? 'new'}
          editing={form.editing}
          currency={currency}
          onDone={done(form.editing ? 'saved' : 'created')}
          onCancel={() => setForm(null)}
        />
      )}
      <Card flush>
        <ErrorBanner error={state.data ? state.error : null} />
        <Async state={state} lines={4}>
          {(data) => (
            <DataTable<Row>
              label="budgets"
              rows={data.budgets}
              rowKey={(b) => b.id}
              empty="No budgets yet: declare them under budgets: in billing-pipeline.yaml, or create one here."
              columns={[
                {
                  key: 'name',
                  label: 'Budget',
                  width: 260,
                  render: (b) => (
                    <span className="stack-tight">
                      <Link to={`/budgets/${encodeURIComponent(b.id)}`}>{b.name}</Link>
                      <span className="hint">
                        <code>{b.id}</code> · {scopeText(b.scope)}
                      </span>
                      <span className="hint nowrap">
                        {periodText(b.period)}
                        {b.status && (
                          <>
                            {' '}
                            · {b.status.periodStart} – {b.status.periodEnd}
                          </>
                        )}
                      </span>
                    </span>
                  ),
                },
                {
                  // One column for the spend and the amount it is held against: the table fits a
                  // laptop screen without scrolling sideways.
                  key: 'spend',
                  label: 'Spent of budget',
                  num: true,
                  render: (b) =>
                    b.status ? (
                      <span className="stack-tight" data-budget-spend={b.id}>
                        <Amount value={b.status.spendToDate} currency={data.currency} />
                        <span className="hint nowrap">
                          of <Amount value={b.amount} currency={data.currency} />
                        </span>
                        {b.status.asOf && <span className="hint">to {b.status.asOf}</span>}
                        <UnknownDays status={b.status} />
                      </span>
                    ) : (
                      <span className="stack-tight">
                        <span className="hint">not computed yet</span>
                        <span className="hint nowrap">
                          of <Amount value={b.amount} currency={data.currency} />
                        </span>
                      </span>
                    ),
                },
                {
                  key: 'used',
                  label: 'Used',
                  render: (b) => (b.status ? <ShareBar share={b.status.shareUsed} /> : '—'),
                },
                {
                  key: 'forecast',
                  label: 'Forecast',
                  num: true,
                  render: (b) => (b.status ? <Forecast status={b.status} currency={data.currency} /> : '—'),
                },
                {
                  key: 'state',
                  label: 'State',
                  render: (b) =>
                    b.status ? (
                      <span className="stack-tight">
                        <BudgetStateBadge state={b.status.state} />
                        {b.status.projectedOverrun && (
                          <span className="hint nowrap" title="the first day the forecast reaches the amount">
                            overrun {b.status.projectedOverrun}
                          </span>
                        )}
                      </span>
                    ) : (
                      '—'
                    ),
                },
                {
                  key: 'actions',
                  label: '',
                  width: 170,
                  render: (b) => (
                    <Actions
                      budget={b}
                      onEdit={() => setForm({ editing: b })}
                      onDeleted={() => {
                        setNotice({ text: `Budget ${b.id} deleted.` });
                        state.reload();
                      }}
                    />
                  ),
                },
              ]}
            />
          )}
        </Async>
      </Card>
    </div>
  );
}
