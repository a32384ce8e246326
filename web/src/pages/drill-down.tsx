import { useEffect, useRef } from 'react';
import { withQuery } from '../api.js';
import { DataTable } from '../components/data-table.js';
import { Async, Card, StatusBadge } from '../components/ui.js';
import { count, dateTime, exactMoney } from '../format.js';
import { useGet } from '../hooks.js';
import { Link, navigate, setQuery, useLocation } from '../router.js';
import { DIMENSIONS, type Filters, type Money } from '../types.js';

/**
 * An exact money figure with its currency (`bare`: without, where the column names it); an unknown
 * one (no FX rate) is flagged, never zero.
 */
function Exact(props: { value: Money; bare?: boolean }) {
  return props.value.amount === null ? (
    <span className="unknown" title="an event behind this figure has no FX rate">
      unknown
    </span>
  ) : (
    <span className="mono">{props.bare ? props.value.amount : exactMoney(props.value)}</span>
  );
}

/**
 * "Where did this number come from?": the days behind a total, the files behind a day, the source
 * lines behind a file. Each level keeps the dashboard's filters, so a region's figure drills into
 * that region's events only, and each level's sum equals the figure above it. Spend is in the
 * reporting currency; original amounts appear per currency and on the source rows.
 */
export function DrillDown(props: { filters: Filters }) {
  const { query } = useLocation();
  const day = query.get('day');
  const file = query.get('file');
  const dims = Object.fromEntries(
    DIMENSIONS.filter((d) => props.filters[d]).map((d) => [d, props.filters[d]]),
  );
  const scope = Object.entries(dims)
    .map(([k, v]) => `${k} = ${v}`)
    .join(', ');
  const close = () => setQuery({ drill: null, day: null, file: null, offset: null, at: null });
  const drill = query.get('drill');
  const anchor = useRef<HTMLDivElement>(null);
  // The panel opens below what was clicked; bring it into view (and again per level), but only as
  // far as needed, so the clicked chart stays on screen when both fit.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the level is what re-scrolls
  useEffect(() => {
    const panel = anchor.current;
    if (!panel) return;
    panel.scrollIntoView({ block: 'nearest' });
    // Opened from a link, the cards above are still loading and push the panel down: follow it
    // while the page settles (briefly, so a user's own scrolling is not fought).
    const observer = new ResizeObserver(() => panel.scrollIntoView({ block: 'nearest' }));
    // The page column, not the body: the body keeps the window's height while its column scrolls.
    observer.observe(panel.parentElement ?? document.body);
    const stop = window.setTimeout(() => observer.disconnect(), 3000);
    return () => {
      observer.disconnect();
      window.clearTimeout(stop);
    };
  }, [drill, day, file]);

  return (
    <div ref={anchor} className="drill-anchor">
      <Card
        className="drill"
        title={
          <nav className="crumbs" aria-label="drill-down">
            <button
              type="button"
              className="ghost"
              onClick={() => setQuery({ drill: 'days', day: null, file: null, offset: null })}
            >
              All days
            </button>
            {day && (
              <>
                <span className="sep">›</span>
                <button
                  type="button"
                  className="ghost"
                  onClick={() => setQuery({ drill: 'day', file: null, offset: null })}
                >
                  {day}
                </button>
              </>
            )}
            {file && (
              <>
                <span className="sep">›</span>
                <code>{file.split('/').pop()}</code>
              </>
            )}
            {scope && <span className="hint">({scope})</span>}
          </nav>
        }
        actions={
          <button type="button" onClick={close} aria-label="close drill-down">
            Close
          </button>
        }
      >
        {!day && <DaysLevel filters={props.filters} />}
        {day && !file && <DayLevel day={day} dims={dims} />}
        {day && file && (
          <FileLevel day={day} file={file} dims={dims} offset={Number(query.get('offset') ?? 0)} />
        )}
      </Card>
    </div>
  );
}

function DaysLevel(props: { filters: Filters }) {
  const state = useGet('/api/insights/daily', props.filters);
  return (
    <Async state={state} lines={5} empty={(d) => (d.days.length === 0 ? 'No days in this range.' : null)}>
      {(d) => (
        <DataTable
          label="days"
          rows={[...d.days].reverse()}
          rowKey={(r) => r.day}
          maxHeight={360}
          onRowClick={(r) => setQuery({ drill: 'day', day: r.day })}
          columns={[
            { key: 'day', label: 'Day' },
            { key: 'event_count', label: 'Events', num: true, render: (r) => count(r.event_count) },
            {
              key: 'spend',
              label: `Spend (${d.currency}, exact)`,
              num: true,
              render: (r) => <Exact value={r.spend} />,
            },
            {
              key: 'unnormalized_events',
              label: 'Without FX rate',
              num: true,
              render: (r) =>
                r.unnormalized_events > 0 ? (
                  <span className="unknown">{count(r.unnormalized_events)}</span>
                ) : (
                  '0'
                ),
            },
            { key: 'failure_count', label: 'Failed', num: true, render: (r) => count(r.failure_count) },
          ]}
        />
      )}
    </Async>
  );
}

function DayLevel(props: { day: string; dims: Record<string, string | undefined> }) {
  const state = useGet('/api/lineage/day', { day: props.day, ...props.dims });
  return (
    <Async state={state} lines={5}>
      {(d) => (
        <div className="stack" style={{ gap: 12 }}>
          <div className="row">
            <span>
              <b>{count(d.totals.events)}</b> events, <Exact value={d.totals.spend} /> on {props.day}
              {d.totals.by_currency.length > 0 && (
                <span className="hint">
                  {' '}
                  (as billed: {d.totals.by_currency.map((c) => exactMoney(c.original)).join(' · ')})
                </span>
              )}
            </span>
            <span className="hint grow">
              from {d.files.length} file(s); built by {d.materializations.length} run(s) of daily_aggregates
            </span>
            <Link to={`/assets/daily_aggregates?from=${props.day}&to=${props.day}`}>Open the partition</Link>
          </div>
          <DataTable
            label="files behind the day"
            rows={d.files}
            rowKey={(r) => r.source_key}
            onRowClick={(r) => setQuery({ file: r.source_key, offset: null })}
            empty="No events match on this day."
            columns={[
              {
                key: 'source_key',
                label: 'Source file',
                wrap: true,
                render: (r) => <code>{String(r.source_key)}</code>,
              },
              { key: 'events', label: 'Events', num: true, render: (r) => count(r.events) },
              {
                key: 'spend',
                label: `Spend (${d.currency})`,
                num: true,
                render: (r) => <Exact value={r.spend} />,
              },
              {
                key: 'by_currency',
                label: 'As billed',
                wrap: true,
                render: (r) => (
                  <span className="mono">{r.by_currency.map((c) => exactMoney(c.original)).join(' · ')}</span>
                ),
              },
              { key: 'lines', label: 'Lines', render: (r) => `${r.first_line}–${r.last_line}` },
              {
                key: 'version',
                label: 'Version',
                render: (r) => <span className="hint mono">{String(r.version ?? '—').slice(0, 24)}</span>,
              },
              {
                key: 'run_id',
                label: 'Loaded by',
                render: (r) => (r.run_id ? <Link to={`/runs/${r.run_id}`}>{String(r.run_id)}</Link> : '—'),
              },
            ]}
          />
          {d.materializations.length > 0 && (
            <div className="hint row">
              Aggregated by:
              {d.materializations.slice(0, 5).map((m) => (
                <span key={`${m.run_id}${m.created_at}`} className="row" style={{ gap: 4 }}>
                  <Link to={`/runs/${m.run_id}`}>{String(m.run_id)}</Link>
                  <StatusBadge status={String(m.status)} />
                  <span>{dateTime(m.created_at)}</span>
                </span>
              ))}
            </div>
          )}
        </div>
      )}
    </Async>
  );
}

function FileLevel(props: {
  day: string;
  file: string;
  dims: Record<string, string | undefined>;
  offset: number;
}) {
  const limit = 50;
  const state = useGet('/api/lineage/rows', {
    day: props.day,
    source_key: props.file,
    ...props.dims,
    limit,
    offset: props.offset,
  });
  return (
    <Async state={state} lines={6}>
      {(d) => (
        <DataTable
          label="source rows"
          rows={d.rows}
          rowKey={(r) => `${r.source_key}:${r.source_line}`}
          paging={{
            offset: props.offset,
            limit,
            total: d.total,
            onPage: (offset) => setQuery({ offset: String(offset) }, { replace: true }),
          }}
          onRowClick={(r) =>
            r.user_id !== null && navigate(withQuery('/insights', { user_id: String(r.user_id) }))
          }
          columns={[
            { key: 'source_line', label: 'Line', num: true },
            {
              key: 'timestamp',
              label: 'Timestamp',
              render: (r) => <span className="mono">{String(r.timestamp)}</span>,
            },
            { key: 'user_id', label: 'User', num: true },
            {
              key: 'credit_usage',
              label: 'Credit usage',
              num: true,
              render: (r) => <span className="mono">{r.credit_usage}</span>,
            },
            { key: 'currency', label: 'Cur.' },
            {
              key: 'spend',
              label: d.rows[0] ? `In ${d.rows[0].spend.currency}` : 'Normalized',
              num: true,
              render: (r) => <Exact value={r.spend} bare />,
            },
            { key: 'region', label: 'Region' },
            { key: 'service_tier', label: 'Tier' },
            { key: 'operation_type', label: 'Operation' },
            { key: 'resource_id', label: 'Resource' },
            {
              key: 'success',
              label: 'OK',
              render: (r) => (r.success ? '✓' : <span className="level-error">✗</span>),
            },
            { key: 'invoice_id', label: 'Invoice' },
          ]}
        />
      )}
    </Async>
  );
}
