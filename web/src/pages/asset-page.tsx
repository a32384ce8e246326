import { useState } from 'react';
import { DataTable } from '../components/data-table.js';
import { FxNotice } from '../components/fx-notice.js';
import { HistoryChart } from '../components/history-chart.js';
import { PageHead } from '../components/layout.js';
import { useMaterialize } from '../components/materialize-confirm.js';
import { type DayRange, PARTITION_LEGEND, PartitionBar } from '../components/partition-bar.js';
import { Async, Card, DateInput, StatusBadge } from '../components/ui.js';
import { count, dateTime, duration, relative } from '../format.js';
import { useApi } from '../hooks.js';
import { Link, navigate, setQuery, useLocation } from '../router.js';
import type {
  AssetDetail,
  Materializations,
  MaterializeScope,
  PartitionCounts,
  PartitionsResponse,
} from '../types.js';
import { PartitionDetailView } from './asset-partition.js';

export function AssetPage(props: { name: string }) {
  const { name } = props;
  const location = useLocation();
  const state = useApi<AssetDetail>(`/api/assets/${encodeURIComponent(name)}`, { pollMs: 3000 });
  const materialize = useMaterialize();
  const asset = state.data?.asset;
  const downstream = state.data?.downstream.length ?? 0;

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
              onClick={() => materialize.ask({ scope: 'only', asset: name })}
              disabled={materialize.busy || !asset}
              title="Run this asset alone on what is new upstream; its downstream may go stale"
            >
              Materialize this asset
            </button>
            <button
              type="button"
              className="primary"
              onClick={() => materialize.ask({ scope: 'downstream', asset: name })}
              disabled={materialize.busy || !asset}
              title="Run this asset and everything downstream of it, so nothing below is left stale"
            >
              Materialize with downstream{asset ? ` (${count(downstream + 1)} assets)` : ''}
            </button>
            <button
              type="button"
              onClick={() => materialize.ask({ scope: 'stale' })}
              disabled={materialize.busy || !asset}
              title="Rebuild every stale or never-built asset in the graph and everything downstream of them"
            >
              Materialize stale
            </button>
          </>
        }
      />
      {materialize.dialog}
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
              <PartitionsSection
                name={name}
                upstream={data.upstream}
                downstream={data.downstream}
                selection={selection}
              />
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

/** Which assets a rebuilt range covers, said before any button is pressed. */
function ScopeChoice(props: {
  scope: MaterializeScope;
  onChange(scope: MaterializeScope): void;
  name: string;
  upstream: number;
  downstream: number;
}) {
  const choices: { scope: MaterializeScope; label: string }[] = [
    { scope: 'upstream', label: `${props.name} and its upstream (${props.upstream + 1} assets)` },
    {
      scope: 'downstream',
      label: `…and its downstream too (${props.upstream + 1 + props.downstream} assets)`,
    },
    { scope: 'all', label: "All assets, as the CLI's backfill" },
  ];
  return (
    <fieldset className="scope-choice">
      <legend>The selected days are rebuilt for</legend>
      {choices.map((c) => (
        <label key={c.scope}>
          <input
            type="radio"
            name="materialize-scope"
            checked={props.scope === c.scope}
            onChange={() => props.onChange(c.scope)}
          />{' '}
          {c.label}
        </label>
      ))}
    </fieldset>
  );
}

function PartitionsSection(props: {
  name: string;
  upstream: string[];
  downstream: string[];
  selection: DayRange | null;
}) {
  const { name, upstream, downstream, selection } = props;
  const state = useApi<PartitionsResponse>(`/api/assets/${encodeURIComponent(name)}/partitions`, {
    pollMs: 3000,
  });
  const materialize = useMaterialize();
  const [scope, setScope] = useState<MaterializeScope>('upstream');
  const select = (range: DayRange | null) =>
    setQuery({ from: range?.from, to: range?.to }, { replace: true });

  // The server adds what a rebuilt day needs (the asset's upstream) and, by scope, what is below it.
  const launch = (backfill: boolean) =>
    selection && materialize.ask({ scope, asset: name, from: selection.from, to: selection.to, backfill });

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
              <span className="field">
                From
                <DateInput
                  label="from"
                  value={selection?.from}
                  min={data.first}
                  max={data.last}
                  onChange={(from) =>
                    from && select({ from, to: selection?.to && selection.to >= from ? selection.to : from })
                  }
                />
              </span>
              <span className="field">
                To
                <DateInput
                  label="to"
                  value={selection?.to}
                  min={selection?.from ?? data.first}
                  max={data.last}
                  onChange={(to) => to && select({ from: selection?.from ?? to, to })}
                />
              </span>
              <span className="hint grow">
                Click a day, drag across the bar, or use ← → to pick days; they are rebuilt from their source
                files.
              </span>
              <button type="button" disabled={!selection || materialize.busy} onClick={() => launch(false)}>
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
                disabled={!selection || materialize.busy || selection.from === selection.to}
                onClick={() => launch(true)}
                title="One run per day, tracked as a backfill"
              >
                Backfill range
              </button>
            </div>
            <ScopeChoice
              scope={scope}
              onChange={setScope}
              name={name}
              upstream={upstream.length}
              downstream={downstream.length}
            />
            {materialize.dialog}
          </div>
        )}
      </Async>
      {selection && selection.from === selection.to && (
        <PartitionDetailView name={name} day={selection.from} />
      )}
    </Card>
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
                {
                  key: 'run_id',
                  label: 'Run',
                  render: (r) => <code className="nowrap">{String(r.run_id)}</code>,
                },
                { key: 'status', label: 'Status', render: (r) => <StatusBadge status={String(r.status)} /> },
                { key: 'trigger', label: 'Trigger' },
                {
                  key: 'range',
                  label: 'Days',
                  render: (r) => (
                    <span className="nowrap">
                      {r.partition_from ? `${r.partition_from} … ${r.partition_to}` : 'new data'}
                    </span>
                  ),
                },
                { key: 'partitions', label: 'Partitions', num: true, render: (r) => count(r.partitions) },
                { key: 'row_count', label: 'Rows', num: true, render: (r) => count(r.row_count) },
                { key: 'duration_ms', label: 'Duration', num: true, render: (r) => duration(r.duration_ms) },
                {
                  key: 'finished_at',
                  label: 'Finished',
                  render: (r) => <span className="nowrap">{dateTime(r.finished_at)}</span>,
                },
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
