import { api } from '../api.js';
import { DataTable } from '../components/data-table.js';
import { FxNotice } from '../components/fx-notice.js';
import { HistoryChart } from '../components/history-chart.js';
import { PageHead } from '../components/layout.js';
import { type DayRange, PARTITION_LEGEND, PartitionBar } from '../components/partition-bar.js';
import { Async, Card, ErrorBanner, StatusBadge } from '../components/ui.js';
import { count, dateTime, duration, relative } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import { Link, navigate, setQuery, useLocation } from '../router.js';
import type {
  AssetDetail,
  Materializations,
  PartitionCounts,
  PartitionDetail,
  PartitionsResponse,
} from '../types.js';

/** A source file behind a partition, as GET /api/assets/{name}/partitions/{day} lists it. */
type PartitionFile = PartitionDetail['files'][number];

export function AssetPage(props: { name: string }) {
  const { name } = props;
  const location = useLocation();
  const state = useApi<AssetDetail>(`/api/assets/${encodeURIComponent(name)}`, { pollMs: 3000 });
  const action = useAction();
  const asset = state.data?.asset;

  const materialize = () =>
    action.run(async () => {
      const { runId } = await api<{ runId: string }>('/api/runs', {
        method: 'POST',
        body: { selection: [name], trigger: 'ui' },
      });
      navigate(`/runs/${encodeURIComponent(runId)}`);
    });

  const from = location.query.get('from');
  const selection: DayRange | null = from ? { from, to: location.query.get('to') ?? from } : null;

  return (
    <div className="stack">
      <PageHead
        title={<code style={{ fontSize: 19 }}>{name}</code>}
        sub={asset?.description}
        actions={
          <>
            {asset && (
              <StatusBadge
                status={asset.status}
                label={asset.status ? `latest run: ${asset.status}` : 'never run'}
              />
            )}
            {asset && <StatusBadge status={asset.freshness} />}
            <button
              type="button"
              className="primary"
              onClick={materialize}
              disabled={action.pending || !asset}
            >
              {action.pending ? 'Launching…' : 'Materialize'}
            </button>
          </>
        }
      />
      <ErrorBanner error={action.error} onClose={action.clear} />
      {state.data && carriesNormalizedAmounts(name, state.data.upstream) && <FxNotice />}
      <Async state={state} lines={3}>
        {(data) => (
          <>
            <Card>
              <dl className="kv">
                <dt>Upstream</dt>
                <dd className="link-list">
                  {data.asset.deps.length ? (
                    data.asset.deps.map((d) => <AssetLink key={d} name={d} />)
                  ) : (
                    <span className="hint">none: reads the source bucket</span>
                  )}
                </dd>
                <dt>Downstream</dt>
                <dd className="link-list">
                  {data.asset.downstream.length ? (
                    data.asset.downstream.map((d) => <AssetLink key={d} name={d} />)
                  ) : (
                    <span className="hint">none</span>
                  )}
                </dd>
                <dt>Partitioned</dt>
                <dd>{data.asset.partitioning === 'daily' ? 'by day' : 'no (one table for all time)'}</dd>
                <dt>Last success</dt>
                <dd>
                  {dateTime(data.asset.last_success_at)}{' '}
                  <span className="hint">({relative(data.asset.last_success_at)})</span>
                </dd>
                <dt>Latest run</dt>
                <dd>
                  {data.asset.latest_run_id ? (
                    <Link to={`/runs/${data.asset.latest_run_id}`}>{data.asset.latest_run_id}</Link>
                  ) : (
                    '—'
                  )}
                  {data.asset.latest_error && <div className="level-error">{data.asset.latest_error}</div>}
                </dd>
              </dl>
            </Card>
            {data.asset.partitioning === 'daily' && (
              <PartitionsSection name={name} upstream={data.upstream} selection={selection} />
            )}
          </>
        )}
      </Async>
      <HistorySection name={name} />
    </div>
  );
}

/** The assets whose figures an FX rate decides: the rates, the events and everything built from them. */
function carriesNormalizedAmounts(name: string, upstream: string[]): boolean {
  return name === 'fx_rates' || name === 'billing_events' || upstream.includes('billing_events');
}

function AssetLink(props: { name: string }) {
  return (
    <Link to={`/assets/${props.name}`} className="mono" title={props.name}>
      {props.name}
    </Link>
  );
}

function PartitionsSection(props: { name: string; upstream: string[]; selection: DayRange | null }) {
  const { name, upstream, selection } = props;
  const state = useApi<PartitionsResponse>(`/api/assets/${encodeURIComponent(name)}/partitions`, {
    pollMs: 3000,
  });
  const action = useAction();
  const select = (range: DayRange | null) =>
    setQuery({ from: range?.from, to: range?.to }, { replace: true });

  // Assets only reprocess days their upstream hands them again (billing_events reloads the files
  // billing_files marks), so rebuilding days runs the asset with everything above it.
  const launch = (kind: 'run' | 'backfill') =>
    action.run(async () => {
      if (!selection) return;
      if (kind === 'run') {
        const { runId } = await api<{ runId: string }>('/api/runs', {
          method: 'POST',
          body: {
            selection: [name],
            withUpstream: true,
            from: selection.from,
            to: selection.to,
            trigger: 'ui',
          },
        });
        navigate(`/runs/${encodeURIComponent(runId)}`);
      } else {
        await api('/api/backfills', {
          method: 'POST',
          body: { selection: [...upstream, name], from: selection.from, to: selection.to },
        });
        navigate('/runs?view=backfills');
      }
    });

  return (
    <Card
      title="Partitions"
      actions={
        <div className="legend">
          {PARTITION_LEGEND.map((l) => (
            <span key={l.code}>
              <i style={{ background: l.color }} />
              {l.name} {state.data ? count(state.data.counts[l.name as keyof PartitionCounts]) : ''}
            </span>
          ))}
        </div>
      }
    >
      <Async
        state={state}
        lines={2}
        empty={(d) => (d.states.length === 0 ? 'No days yet: the source has no files for this asset.' : null)}
      >
        {(data) => (
          <div className="stack" style={{ gap: 12 }}>
            <PartitionBar
              states={data.states}
              first={data.first ?? ''}
              selection={selection}
              onSelect={select}
            />
            <div className="row">
              <label className="field">
                From
                <input
                  type="date"
                  value={selection?.from ?? ''}
                  min={data.first ?? undefined}
                  max={data.last ?? undefined}
                  onChange={(e) =>
                    e.target.value &&
                    select({
                      from: e.target.value,
                      to: selection?.to && selection.to >= e.target.value ? selection.to : e.target.value,
                    })
                  }
                />
              </label>
              <label className="field">
                To
                <input
                  type="date"
                  value={selection?.to ?? ''}
                  min={selection?.from ?? data.first ?? undefined}
                  max={data.last ?? undefined}
                  onChange={(e) =>
                    e.target.value && select({ from: selection?.from ?? e.target.value, to: e.target.value })
                  }
                />
              </label>
              <span className="hint grow">
                Click a day, drag across the bar, or use ← → to pick days; they are rebuilt from their source
                files.
              </span>
              <button type="button" disabled={!selection || action.pending} onClick={() => launch('run')}>
                Materialize{' '}
                {selection
                  ? selection.from === selection.to
                    ? selection.from
                    : `${selection.from} … ${selection.to}`
                  : 'selection'}
              </button>
              <button
                type="button"
                className="primary"
                disabled={!selection || action.pending || selection.from === selection.to}
                onClick={() => launch('backfill')}
              >
                Backfill range
              </button>
            </div>
            <ErrorBanner error={action.error} onClose={action.clear} />
          </div>
        )}
      </Async>
      {selection && selection.from === selection.to && (
        <PartitionDetailView name={name} day={selection.from} />
      )}
    </Card>
  );
}

function PartitionDetailView(props: { name: string; day: string }) {
  const state = useApi<PartitionDetail>(
    `/api/assets/${encodeURIComponent(props.name)}/partitions/${props.day}?rows=10`,
  );
  return (
    <div className="stack" style={{ marginTop: 18 }}>
      <Async state={state} lines={4}>
        {(d) => (
          <>
            <div className="row">
              <h2 style={{ margin: 0 }}>{d.partition}</h2>
              <StatusBadge status={d.status} label={d.status ?? 'no partition'} />
              {d.materialized_at && <span className="hint">materialized {dateTime(d.materialized_at)}</span>}
            </div>
            <div className="grid-2">
              <div>
                <h3>Runs that built it</h3>
                <DataTable
                  label="partition runs"
                  rows={d.materializations}
                  rowKey={(r, i) => `${r.run_id}-${i}`}
                  empty="Never materialized."
                  onRowClick={(r) => navigate(`/runs/${r.run_id}`)}
                  columns={[
                    { key: 'run_id', label: 'Run', render: (r) => <code>{String(r.run_id)}</code> },
                    {
                      key: 'status',
                      label: 'Status',
                      render: (r) => <StatusBadge status={String(r.status)} />,
                    },
                    { key: 'trigger', label: 'Trigger' },
                    { key: 'row_count', label: 'Rows', num: true, render: (r) => count(r.row_count) },
                    { key: 'created_at', label: 'When', render: (r) => relative(r.created_at) },
                  ]}
                />
              </div>
              <div>
                <h3>Files behind it</h3>
                <DataTable
                  label="partition files"
                  rows={d.files}
                  rowKey={(r) => String(r.source_key)}
                  empty="No source files."
                  columns={[
                    {
                      key: 'source_key',
                      label: 'File',
                      wrap: true,
                      render: (r) => <code>{String(r.source_key)}</code>,
                    },
                    { key: 'events', label: 'Events', num: true, render: (r) => count(r.events) },
                    // A file's amounts may be in several currencies; their sum would mean nothing here
                    // (the dashboard's drill-down shows them per currency and in the reporting currency).
                    ...(d.files[0] && 'status' in d.files[0]
                      ? [
                          {
                            key: 'status',
                            label: 'Status',
                            render: (r: PartitionFile) => <StatusBadge status={String(r.status)} />,
                          },
                        ]
                      : []),
                    {
                      key: 'run_id',
                      label: 'Loaded by',
                      render: (r) =>
                        r.run_id ? <Link to={`/runs/${r.run_id}`}>{String(r.run_id)}</Link> : '—',
                    },
                  ]}
                />
              </div>
            </div>
            <div>
              <h3>Sample source rows</h3>
              <DataTable
                label="sample rows"
                rows={d.rows}
                rowKey={(r) => `${r.source_key}:${r.source_line}`}
                empty="No events on this day."
                columns={[
                  {
                    key: 'source',
                    label: 'File : line',
                    render: (r) => <code>{`${String(r.source_key).split('/').pop()}:${r.source_line}`}</code>,
                  },
                  { key: 'timestamp', label: 'Timestamp' },
                  { key: 'user_id', label: 'User', num: true },
                  { key: 'credit_usage', label: 'Credit usage', num: true },
                  { key: 'currency', label: 'Cur.' },
                  { key: 'region', label: 'Region' },
                  { key: 'operation_type', label: 'Operation' },
                ]}
              />
            </div>
          </>
        )}
      </Async>
    </div>
  );
}

function HistorySection(props: { name: string }) {
  const state = useApi<Materializations>(
    `/api/assets/${encodeURIComponent(props.name)}/materializations?limit=200`,
    { pollMs: 5000 },
  );
  return (
    <Card title="Materialization history" flush>
      <Async
        state={state}
        lines={5}
        empty={(d) =>
          d.materializations.length === 0 ? 'Never materialized yet. Press Materialize to build it.' : null
        }
      >
        {(d) => (
          <>
            <div style={{ padding: '0 16px 8px' }}>
              <HistoryChart rows={d.materializations} />
            </div>
            <DataTable
              label="materialization history"
              rows={d.materializations.slice(0, 50)}
              rowKey={(r, i) => `${r.run_id}-${i}`}
              onRowClick={(r) => navigate(`/runs/${r.run_id}`)}
              maxHeight={420}
              columns={[
                { key: 'run_id', label: 'Run', render: (r) => <code>{String(r.run_id)}</code> },
                { key: 'status', label: 'Status', render: (r) => <StatusBadge status={String(r.status)} /> },
                { key: 'trigger', label: 'Trigger' },
                {
                  key: 'range',
                  label: 'Days',
                  render: (r) => (r.partition_from ? `${r.partition_from} … ${r.partition_to}` : 'new data'),
                },
                { key: 'partitions', label: 'Partitions', num: true, render: (r) => count(r.partitions) },
                { key: 'row_count', label: 'Rows', num: true, render: (r) => count(r.row_count) },
                { key: 'duration_ms', label: 'Duration', num: true, render: (r) => duration(r.duration_ms) },
                { key: 'finished_at', label: 'Finished', render: (r) => dateTime(r.finished_at) },
                {
                  key: 'error',
                  label: 'Error',
                  wrap: true,
                  render: (r) => (r.error ? <span className="level-error">{String(r.error)}</span> : ''),
                },
              ]}
            />
          </>
        )}
      </Async>
    </Card>
  );
}
