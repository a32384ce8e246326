import { useState } from 'react';
import { api } from '../api.js';
import { DataTable } from '../components/data-table.js';
import { PageHead } from '../components/layout.js';
import { Async, Card, ErrorBanner, StatusBadge } from '../components/ui.js';
import { dateTime, relative } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import { Link } from '../router.js';
import type { Automation, Tick } from '../types.js';

type Kind = 'sensors' | 'schedules';

export function AutomationPage() {
  return (
    <div className="stack">
      <PageHead
        title="Automation"
        sub="Sensors react to new files in the bucket; schedules run on a clock. Both only queue runs."
      />
      <AutomationList kind="sensors" />
      <AutomationList kind="schedules" />
    </div>
  );
}

function every(seconds: number | null | undefined): string {
  if (!seconds) return '—';
  if (seconds < 60) return `every ${seconds} s`;
  if (seconds < 3600) return `every ${Math.round(seconds / 60)} min`;
  return `every ${Math.round(seconds / 3600)} h`;
}

/** A tick that is due has no meaningful "ago": the loop picks it up on its next pass. */
function nextTick(iso: string | null | undefined): string {
  if (!iso) return '—';
  return Date.parse(iso) <= Date.now() ? 'due now' : relative(iso);
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/**
 * Cursors are whatever a sensor or schedule keeps between ticks (JSON for sensors, a time for
 * schedules); the table shows their scalar fields, the tooltip the whole value.
 */
function CursorText(props: { cursor: unknown }) {
  const raw = props.cursor === null || props.cursor === undefined ? '' : String(props.cursor);
  if (!raw) return <span className="hint">—</span>;
  let text = raw;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      text = Object.entries(parsed)
        .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
        .map(([k, v]) => `${k} ${typeof v === 'string' && ISO_TIME.test(v) ? dateTime(v) : v}`)
        .join(' · ');
    }
  } catch {
    if (ISO_TIME.test(raw)) text = dateTime(raw);
  }
  return (
    <span className="hint" title={raw}>
      {text.length > 80 ? `${text.slice(0, 79)}…` : text}
    </span>
  );
}

function AutomationList(props: { kind: Kind }) {
  const { kind } = props;
  const state = useApi<Record<Kind, Automation[]>>(`/api/${kind}`, { pollMs: 3000 });
  const action = useAction();
  const [open, setOpen] = useState<string | null>(null);
  const toggle = (item: Automation) =>
    action.run(async () => {
      await api(`/api/${kind}/${encodeURIComponent(item.name)}/${item.enabled ? 'stop' : 'start'}`, {
        method: 'POST',
      });
      state.reload();
    });
  return (
    <Card title={kind === 'sensors' ? 'Sensors' : 'Schedules'} flush>
      <ErrorBanner error={action.error} onClose={action.clear} />
      <Async state={state} lines={3}>
        {(data) => (
          <>
            <DataTable
              label={kind}
              rows={data[kind] ?? []}
              rowKey={(s) => s.name}
              selected={open}
              onRowClick={(s) => setOpen(open === s.name ? null : s.name)}
              empty={`No ${kind} are defined.`}
              columns={[
                {
                  key: 'enabled',
                  label: 'On',
                  width: 60,
                  render: (s) => (
                    <button
                      type="button"
                      role="switch"
                      aria-checked={s.enabled}
                      aria-label={`${s.enabled ? 'stop' : 'start'} ${s.name}`}
                      className="switch"
                      disabled={action.pending}
                      onClick={(e) => {
                        e.stopPropagation();
                        toggle(s);
                      }}
                    />
                  ),
                },
                { key: 'name', label: 'Name', render: (s) => <code>{s.name}</code> },
                {
                  key: 'when',
                  label: kind === 'sensors' ? 'Checks' : 'Cron',
                  render: (s) =>
                    'interval_seconds' in s ? (
                      every(s.interval_seconds)
                    ) : (
                      <code>{`${s.cron} (${s.timezone})`}</code>
                    ),
                },
                {
                  key: 'description',
                  label: 'What it does',
                  wrap: true,
                  render: (s) => <span className="hint">{s.description ?? s.kind ?? ''}</span>,
                },
                {
                  key: 'next',
                  label: 'Next tick',
                  render: (s) =>
                    s.enabled ? (
                      <span title={dateTime(s.next_tick_at)}>{nextTick(s.next_tick_at)}</span>
                    ) : (
                      <span className="hint">stopped</span>
                    ),
                },
                {
                  key: 'last',
                  label: 'Last tick',
                  render: (s) =>
                    s.last_tick ? (
                      <span className="row">
                        <StatusBadge status={s.last_tick.outcome} />{' '}
                        <span className="hint">{relative(s.last_tick.started_at)}</span>
                      </span>
                    ) : (
                      <span className="hint">never</span>
                    ),
                },
                {
                  key: 'cursor',
                  label: 'Cursor',
                  wrap: true,
                  render: (s) => <CursorText cursor={s.cursor} />,
                },
              ]}
            />
            {open && <TickHistory kind={kind} name={open} />}
          </>
        )}
      </Async>
    </Card>
  );
}

function TickHistory(props: { kind: Kind; name: string }) {
  const state = useApi<{ ticks: Tick[] }>(`/api/${props.kind}/${encodeURIComponent(props.name)}/ticks`, {
    pollMs: 3000,
  });
  return (
    <div style={{ borderTop: '1px solid var(--border)', padding: '12px 0 0' }}>
      <h3 style={{ padding: '0 16px' }}>Tick history: {props.name}</h3>
      <Async state={state} lines={3}>
        {(data) => (
          <DataTable
            label="ticks"
            rows={data.ticks}
            rowKey={(t) => String(t.tick_id)}
            maxHeight={360}
            empty="No ticks yet."
            columns={[
              { key: 'started_at', label: 'When', render: (t) => dateTime(t.started_at) },
              { key: 'outcome', label: 'Outcome', render: (t) => <StatusBadge status={t.outcome} /> },
              { key: 'reason', label: 'Why', wrap: true, render: (t) => t.error ?? t.skip_reason ?? '' },
              {
                key: 'runs',
                label: 'Runs',
                render: (t) =>
                  (t.run_ids ?? []).map((id) => (
                    <Link key={id} to={`/runs/${id}`}>
                      <code style={{ marginRight: 8 }}>{id}</code>
                    </Link>
                  )),
              },
              {
                key: 'cursor',
                label: 'Cursor',
                wrap: true,
                render: (t) => <CursorText cursor={t.cursor_after} />,
              },
            ]}
          />
        )}
      </Async>
    </div>
  );
}
