import { api, withQuery } from '../api.js';
import { DataTable } from '../components/data-table.js';
import { PageHead } from '../components/layout.js';
import { Async, Card, StatusBadge } from '../components/ui.js';
import { cellText, dateTime, duration, relative } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import { navigate, setQuery, useLocation } from '../router.js';
import type { Row, Run, RunStatus } from '../types.js';

const STATUSES: RunStatus[] = ['queued', 'running', 'success', 'failed', 'canceled'];

export function RunsPage() {
  const { query } = useLocation();
  const view = query.get('view') === 'backfills' ? 'backfills' : 'runs';
  return (
    <div className="stack">
      <PageHead
        title="Runs"
        sub="Every materialization: what triggered it, what it covered, and how it went."
      />
      <div className="tabs" role="tablist">
        <button
          type="button"
          role="tab"
          aria-selected={view === 'runs'}
          className={view === 'runs' ? 'on' : ''}
          onClick={() => setQuery({ view: null, before: null })}
        >
          Runs
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={view === 'backfills'}
          className={view === 'backfills' ? 'on' : ''}
          onClick={() => setQuery({ view: 'backfills', before: null, status: null })}
        >
          Backfills
        </button>
      </div>
      {view === 'runs' ? (
        <RunList status={query.get('status')} before={query.get('before')} />
      ) : (
        <BackfillList />
      )}
    </div>
  );
}

function RunList(props: { status: string | null; before: string | null }) {
  const state = useApi<{ runs: Run[]; next: string | null }>(
    withQuery('/api/runs', { status: props.status, before: props.before, limit: 50 }),
    { pollMs: 2000 },
  );
  return (
    <Card
      flush
      title={
        <fieldset className="row" aria-label="status filter">
          <button
            type="button"
            className={`chip ${props.status ? '' : 'on'}`}
            onClick={() => setQuery({ status: null, before: null })}
          >
            All
          </button>
          {STATUSES.map((s) => (
            <button
              key={s}
              type="button"
              className={`chip ${props.status === s ? 'on' : ''}`}
              onClick={() => setQuery({ status: s, before: null })}
            >
              {s}
            </button>
          ))}
        </fieldset>
      }
      actions={
        <>
          {props.before && (
            <button type="button" onClick={() => setQuery({ before: null })}>
              Newest
            </button>
          )}
          {state.data?.next && (
            <button type="button" onClick={() => setQuery({ before: state.data?.next })}>
              Older →
            </button>
          )}
        </>
      }
    >
      <Async state={state} lines={8}>
        {(data) => (
          <DataTable
            label="runs"
            rows={data.runs}
            rowKey={(r) => r.run_id}
            onRowClick={(r) => navigate(`/runs/${encodeURIComponent(r.run_id)}`)}
            empty={
              props.status ? `No ${props.status} runs.` : 'No runs yet. Materialize an asset to start one.'
            }
            columns={[
              { key: 'run_id', label: 'Run', render: (r) => <code className="nowrap">{r.run_id}</code> },
              { key: 'status', label: 'Status', render: (r) => <StatusBadge status={r.status} /> },
              {
                key: 'trigger',
                label: 'Trigger',
                render: (r) => <span className="nowrap">{r.trigger}</span>,
              },
              {
                key: 'selection',
                label: 'Assets',
                render: (r) => (
                  // A long list is a count (its names on hover), so it never squeezes the other columns.
                  <span className="hint nowrap" title={r.selection.join(', ')}>
                    {r.selection.length > 3 ? `${r.selection.length} assets` : r.selection.join(', ')}
                  </span>
                ),
              },
              {
                key: 'days',
                label: 'Days',
                render: (r) =>
                  r.partition_from ? (
                    <span className="nowrap">
                      {r.partition_from === r.partition_to
                        ? r.partition_from
                        : `${r.partition_from} … ${r.partition_to}`}
                    </span>
                  ) : (
                    <span className="hint nowrap">new and changed data</span>
                  ),
              },
              {
                key: 'created_at',
                label: 'Created',
                render: (r) => (
                  <span className="nowrap" title={dateTime(r.created_at)}>
                    {relative(r.created_at)}
                  </span>
                ),
              },
              { key: 'duration_ms', label: 'Duration', num: true, render: (r) => duration(r.duration_ms) },
              {
                key: 'error',
                label: 'Error',
                wrap: true,
                render: (r) => (r.error ? <span className="level-error">{r.error.slice(0, 140)}</span> : ''),
              },
            ]}
          />
        )}
      </Async>
    </Card>
  );
}

function BackfillList() {
  const state = useApi<{ backfills: Row[] }>('/api/backfills', { pollMs: 2000 });
  const action = useAction();
  const act = (id: string, what: 'cancel' | 'reexecute-failed') =>
    action.run(async () => {
      await api(`/api/backfills/${encodeURIComponent(id)}/${what}`, { method: 'POST' });
      state.reload();
    });
  return (
    <Card flush>
      <Async state={state} lines={5}>
        {(data) => (
          <DataTable
            label="backfills"
            rows={data.backfills ?? []}
            rowKey={(b, i) => String(b.backfill_id ?? i)}
            empty="No backfills yet. Select a range on an asset's partition bar and press Backfill range."
            columns={[
              {
                key: 'backfill_id',
                label: 'Backfill',
                render: (b) => <code className="nowrap">{cellText(b.backfill_id)}</code>,
              },
              { key: 'status', label: 'Status', render: (b) => <StatusBadge status={String(b.status)} /> },
              {
                key: 'range',
                label: 'Days',
                render: (b) => (
                  <span className="nowrap">{`${cellText(b.partition_from)} … ${cellText(b.partition_to)}`}</span>
                ),
              },
              {
                key: 'selection',
                label: 'Assets',
                render: (b) => <BackfillAssets selection={cellText(b.selection)} />,
              },
              { key: 'progress', label: 'Progress', render: (b) => progressText(b) },
              {
                key: 'created_at',
                label: 'Created',
                render: (b) => <span className="nowrap">{relative(b.created_at)}</span>,
              },
              {
                key: 'actions',
                label: '',
                render: (b) => (
                  <span className="row">
                    {(b.status === 'running' || b.status === 'queued') && (
                      <button
                        type="button"
                        className="danger"
                        onClick={() => act(String(b.backfill_id), 'cancel')}
                      >
                        Cancel
                      </button>
                    )}
                    {Number(countsOf(b).failed ?? 0) > 0 && (
                      <button type="button" onClick={() => act(String(b.backfill_id), 'reexecute-failed')}>
                        Re-execute failed
                      </button>
                    )}
                  </span>
                ),
              },
            ]}
          />
        )}
      </Async>
    </Card>
  );
}

const countsOf = (b: Row): Record<string, number> =>
  b.counts && typeof b.counts === 'object' && !Array.isArray(b.counts)
    ? (b.counts as Record<string, number>)
    : {};

/** "12 / 30 done · 1 failed": the backfill's partitions by run status. */
function progressText(b: Row): string {
  const counts = countsOf(b);
  const total = Number(b.partitions_total ?? 0);
  const extra = (['running', 'queued', 'failed', 'canceled'] as const)
    .filter((k) => Number(counts[k] ?? 0) > 0)
    .map((k) => `${counts[k]} ${k}`);
  return [`${Number(counts.success ?? 0)} / ${total} done`, ...extra].join(' · ');
}

/** The ledger keeps a backfill's assets comma-joined: shown as a count, the names on hover. */
function BackfillAssets(props: { selection: string }) {
  const names = props.selection.split(',').filter(Boolean);
  if (names.length === 0) return <span className="hint">all assets</span>;
  return (
    <span className="hint nowrap" title={names.join(', ')}>
      {names.length > 3 ? `${names.length} assets` : names.join(', ')}
    </span>
  );
}
