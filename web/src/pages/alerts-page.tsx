import { useState } from 'react';
import {
  type AlertDetail,
  type AlertList,
  type AlertRules,
  type AlertStateFilter,
  type DeliveryCounts,
  type DeliveryJson,
  type RuleJson,
  ruleLabel,
  sendTest,
  setRuleEnabled,
} from '../alert-api.js';
import { withQuery } from '../api.js';
import { type Column, DataTable } from '../components/data-table.js';
import { PageHead } from '../components/layout.js';
import { Async, Card, StatusBadge } from '../components/ui.js';
import { dateTime, duration, relative } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import { setQuery, useLocation } from '../router.js';

type AlertRow = AlertList['alerts'][number];
const FILTERS: { value: AlertStateFilter; label: string }[] = [
  { value: 'open', label: 'Open' },
  { value: 'resolved', label: 'Resolved' },
  { value: 'all', label: 'All' },
];

function filterOf(text: string | null): AlertStateFilter {
  return text === 'resolved' || text === 'all' ? text : 'open';
}

function DeliveryStatus(props: { counts: DeliveryCounts }) {
  const { delivered, failed, pending } = props.counts;
  if (delivered + failed + pending === 0) return <span className="hint">no channel</span>;
  return (
    <span className="row nowrap">
      {delivered > 0 && <StatusBadge status="success" label={`${delivered} delivered`} />}
      {pending > 0 && <StatusBadge status="queued" label={`${pending} pending`} />}
      {failed > 0 && <StatusBadge status="failed" label={`${failed} gave up`} />}
    </span>
  );
}

/** A retry still to come reads as "in 4 s"; one already made (a later attempt row) as its time. */
function NextAttempt(props: { at: string | null }) {
  if (!props.at) return <>—</>;
  const future = Date.parse(props.at) > Date.now();
  return <span title={props.at}>{future ? relative(props.at) : dateTime(props.at)}</span>;
}

/** Every attempt, whatever the alert (test sends included), so a receiver's failures are visible. */
const ATTEMPT_COLUMNS: Column<DeliveryJson>[] = [
  { key: 'attempt', label: 'Attempt', num: true, render: (a) => `#${a.attempt}` },
  {
    key: 'attemptedAt',
    label: 'When',
    render: (a) => <span title={a.attemptedAt}>{dateTime(a.attemptedAt)}</span>,
  },
  { key: 'channel', label: 'Channel', render: (a) => <code>{a.channel}</code> },
  {
    key: 'status',
    label: 'Status',
    render: (a) => <StatusBadge status={a.status === 'delivered' ? 'success' : 'failed'} label={a.status} />,
  },
  { key: 'httpStatus', label: 'HTTP', num: true, render: (a) => a.httpStatus ?? '—' },
  { key: 'durationMs', label: 'Took', num: true, render: (a) => duration(a.durationMs) },
  {
    key: 'error',
    label: 'Error',
    wrap: true,
    render: (a) => (a.error ? <span className="level-error">{a.error}</span> : ''),
  },
  {
    key: 'nextAttemptAt',
    label: 'Next attempt',
    render: (a) => <NextAttempt at={a.nextAttemptAt} />,
  },
];

function AlertAttempts(props: { id: string }) {
  const state = useApi<AlertDetail>(`/api/alerts/${encodeURIComponent(props.id)}`, { pollMs: 3000 });
  return (
    <div className="alert-detail">
      <Async state={state} lines={3}>
        {(data) => (
          <>
            <h3>Delivery attempts</h3>
            {data.events.length > 0 && (
              <div className="hint alert-events">
                {data.events.map((e) => (
                  <span key={e.eventId}>
                    {e.kind} → <code>{e.channel}</code>: {e.status}, {e.attempts}{' '}
                    {e.attempts === 1 ? 'attempt' : 'attempts'}
                    {e.status === 'pending' && e.nextAttemptAt ? `, next ${relative(e.nextAttemptAt)}` : ''}
                  </span>
                ))}
              </div>
            )}
            <DataTable<DeliveryJson>
              label={`delivery attempts of ${props.id}`}
              rows={data.attempts}
              rowKey={(a) => `${a.eventId}-${a.attempt}`}
              empty="No attempt yet: the daemon delivers due events from the outbox."
              columns={ATTEMPT_COLUMNS}
            />
          </>
        )}
      </Async>
    </div>
  );
}

function AlertsTable() {
  const { query } = useLocation();
  const filter = filterOf(query.get('state'));
  const state = useApi<AlertList>(withQuery('/api/alerts', { state: filter }), { pollMs: 3000 });
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Card
      flush
      title={
        <div className="tabs" role="tablist" aria-label="alert state">
          {FILTERS.map((f) => (
            <button
              key={f.value}
              type="button"
              role="tab"
              aria-selected={filter === f.value}
              className={filter === f.value ? 'on' : ''}
              onClick={() => setQuery({ state: f.value === 'open' ? null : f.value })}
            >
              {f.label}
            </button>
          ))}
        </div>
      }
    >
      <Async state={state} lines={3}>
        {(data) => (
          <>
            <DataTable<AlertRow>
              label="alerts"
              rows={data.alerts}
              rowKey={(a) => a.id}
              selected={open}
              onRowClick={(a) => setOpen(open === a.id ? null : a.id)}
              empty={filter === 'open' ? 'No open alerts.' : 'No alerts.'}
              columns={[
                {
                  key: 'state',
                  label: 'State',
                  render: (a) => (
                    <StatusBadge
                      status={a.state === 'open' ? (a.severity === 'error' ? 'failed' : 'stale') : 'success'}
                      label={a.state}
                    />
                  ),
                },
                {
                  key: 'rule',
                  label: 'Rule',
                  render: (a) => <span title={a.rule}>{ruleLabel(a.rule)}</span>,
                },
                { key: 'scope', label: 'Scope', render: (a) => <code>{a.scope}</code> },
                { key: 'period', label: 'Period', render: (a) => a.period ?? '—' },
                {
                  key: 'threshold',
                  label: 'Threshold',
                  num: true,
                  render: (a) => (a.threshold === null ? '—' : `${a.threshold} %`),
                },
                { key: 'summary', label: 'Summary', wrap: true, render: (a) => a.summary },
                {
                  key: 'openedAt',
                  label: 'Opened',
                  render: (a) => <span title={a.openedAt}>{dateTime(a.openedAt)}</span>,
                },
                {
                  key: 'resolvedAt',
                  label: 'Resolved',
                  render: (a) => (a.resolvedAt ? dateTime(a.resolvedAt) : '—'),
                },
                {
                  key: 'deliveries',
                  label: 'Delivery',
                  render: (a) => <DeliveryStatus counts={a.deliveries} />,
                },
              ]}
            />
            {open && <AlertAttempts id={open} />}
          </>
        )}
      </Async>
    </Card>
  );
}

function RuleRow(props: { rule: RuleJson; onChanged(): void; channels: number }) {
  const { rule } = props;
  const action = useAction();
  const [sent, setSent] = useState<string | null>(null);
  return (
    <li className="alert-rule">
      <button
        type="button"
        role="switch"
        aria-checked={rule.enabled}
        aria-label={`${rule.enabled ? 'disable' : 'enable'} ${rule.rule}`}
        className="switch"
        disabled={action.pending}
        onClick={() =>
          void action.run(async () => {
            await setRuleEnabled(rule.rule, !rule.enabled);
            props.onChanged();
          })
        }
      />
      <span className="grow">
        <b>{ruleLabel(rule.rule)}</b> <code className="hint">{rule.rule}</code>
        <span className="hint"> · set by {rule.source}</span>
        <div className="hint">{rule.description}</div>
        {sent && (
          <div className="hint" role="status">
            {sent}
          </div>
        )}
        {action.error && <div className="field-error">{action.error.message}</div>}
      </span>
      <button
        type="button"
        disabled={action.pending || props.channels === 0}
        title={
          props.channels === 0 ? 'no channel is configured' : 'send a test alert to the channels of this rule'
        }
        aria-label={`send test ${rule.rule}`}
        onClick={() =>
          void action.run(async () => {
            const result = await sendTest(rule.rule);
            setSent(
              `Test queued: ${result.eventIds.length} ${result.eventIds.length === 1 ? 'event' : 'events'}`,
            );
          })
        }
      >
        Send test
      </button>
    </li>
  );
}

function RulesPanel() {
  const state = useApi<AlertRules>('/api/alerts/rules', { pollMs: 10000 });
  return (
    <Card title="Rules and channels">
      <Async state={state} lines={4}>
        {(data) => (
          <div className="stack">
            <ul className="alert-rules" aria-label="alert rules">
              {data.rules.map((rule) => (
                <RuleRow
                  key={rule.rule}
                  rule={rule}
                  onChanged={state.reload}
                  channels={data.channels.length}
                />
              ))}
            </ul>
            <div>
              <h3>Channels</h3>
              {data.channels.length === 0 ? (
                <div className="hint">
                  No channel is configured: set alerts.channels in billing-pipeline.yaml.
                </div>
              ) : (
                <ul className="alert-channels" aria-label="alert channels">
                  {data.channels.map((c) => (
                    <li key={c.name}>
                      <code>{c.name}</code> {c.type} → {c.host}{' '}
                      {c.signed ? (
                        <StatusBadge status="success" label="signed" />
                      ) : (
                        <StatusBadge status="never" label="unsigned" />
                      )}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        )}
      </Async>
    </Card>
  );
}

function RecentAttempts() {
  const state = useApi<{ attempts: DeliveryJson[] }>('/api/alerts/deliveries?limit=20', { pollMs: 3000 });
  return (
    <Card title="Recent delivery attempts" flush>
      <Async state={state} lines={3}>
        {(data) => (
          <DataTable<DeliveryJson>
            label="recent delivery attempts"
            rows={data.attempts}
            rowKey={(a) => `${a.eventId}-${a.attempt}`}
            maxHeight={360}
            empty="No delivery attempts yet."
            columns={ATTEMPT_COLUMNS}
          />
        )}
      </Async>
    </Card>
  );
}

export function AlertsPage() {
  return (
    <div className="stack">
      <PageHead
        title="Alerts"
        sub="Alerts open on a change of state and are delivered from an outbox, each event once; every attempt is recorded."
      />
      <AlertsTable />
      <div className="stack alerts-lower">
        <RulesPanel />
        <RecentAttempts />
      </div>
    </div>
  );
}
