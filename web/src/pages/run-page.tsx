import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { PageHead } from '../components/layout.js';
import { Async, Card, ErrorBanner, StatusBadge } from '../components/ui.js';
import { cellText, count, dateTime, duration } from '../format.js';
import { useAction, useApi } from '../hooks.js';
import { Link, navigate } from '../router.js';
import type { RunAsset, RunDetail, RunStatus } from '../types.js';
import { ErrorSummary, EventLog, eventsOf } from './run-events.js';

const ACTIVE = new Set(['queued', 'running']);

/** What a run without a start time is: still waiting, or ended before it began. */
function notStarted(status: RunStatus): string {
  switch (status) {
    case 'queued':
      return 'queued, not started yet';
    case 'running':
      return 'starting…';
    case 'canceled':
      return 'canceled before it started';
    case 'failed':
      return 'failed before it started';
    case 'success':
      return '—';
  }
}

export function RunPage(props: { runId: string }) {
  const path = `/api/runs/${encodeURIComponent(props.runId)}`;
  const [live, setLive] = useState(true);
  // Poll fast while the run is live; once it has finished the page is a record and stops asking.
  const detail = useApi<RunDetail>(path, { pollMs: live ? 1000 : null });
  const run = detail.data?.run;
  useEffect(() => {
    if (run) setLive(ACTIVE.has(run.status));
  }, [run]);
  const action = useAction();

  const cancel = () =>
    action.run(async () => {
      await api(`${path}/cancel`, { method: 'POST' });
      setLive(true);
      detail.reload();
    });
  const reexecute = () =>
    action.run(async () => {
      const { runId } = await api<{ runId: string }>(`${path}/reexecute`, { method: 'POST' });
      navigate(`/runs/${encodeURIComponent(runId)}`);
    });

  return (
    <div className="stack">
      <PageHead
        title={
          <span className="row">
            Run <code>{props.runId}</code> {run && <StatusBadge status={run.status} />}
          </span>
        }
        sub={
          run &&
          `${run.trigger} · ${run.selection.length} asset(s) · ${run.partition_from ? `days ${run.partition_from} … ${run.partition_to}` : 'new and changed data'}`
        }
        actions={
          run && (
            <>
              {ACTIVE.has(run.status) && (
                <button type="button" className="danger" onClick={cancel} disabled={action.pending}>
                  Cancel run
                </button>
              )}
              {(run.status === 'failed' || run.status === 'canceled') && (
                <button type="button" className="primary" onClick={reexecute} disabled={action.pending}>
                  Re-execute
                </button>
              )}
            </>
          )
        }
      />
      <ErrorBanner error={action.error} onClose={action.clear} />
      <Async state={detail} lines={6}>
        {(d) => (
          <>
            <ErrorSummary detail={d} />
            <Card>
              <dl className="kv">
                <dt>Created</dt>
                <dd>{dateTime(d.run.created_at)}</dd>
                <dt>Started</dt>
                <dd>{d.run.started_at !== null ? dateTime(d.run.started_at) : notStarted(d.run.status)}</dd>
                <dt>Finished</dt>
                <dd>{dateTime(d.run.finished_at)}</dd>
                <dt>Duration</dt>
                <dd>{duration(d.run.duration_ms)}</dd>
                {d.run.run_key && (
                  <>
                    <dt>Run key</dt>
                    <dd>
                      <code>{d.run.run_key}</code>
                    </dd>
                  </>
                )}
              </dl>
            </Card>
            <RunConfigCard config={d.config} />
            <Card title="Asset timings">
              <Timeline
                assets={d.assets}
                selection={d.run.selection}
                runStart={d.run.started_at}
                running={d.run.status === 'running'}
              />
            </Card>
            <Card title={`Event log (${d.events.length})`} flush>
              <EventLog events={d.events} waiting={ACTIVE.has(d.run.status)} />
            </Card>
          </>
        )}
      </Async>
    </div>
  );
}

/** Settings as dotted keys (`duckdb.memory_limit`), as billing-pipeline.yaml and the README name them. */
function flatten(value: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(value).flatMap(([key, v]): [string, unknown][] =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? flatten(v as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, v]],
  );
}

/** The configuration the run ran under (secrets redacted), like Dagster's run config. */
function RunConfigCard(props: { config: Record<string, unknown> | null }) {
  if (!props.config) return null;
  const { checks, ...settings } = props.config;
  const entries = flatten(settings);
  // Collapsed: three dozen settings would otherwise push the timings and the log below the fold.
  return (
    <Card>
      <details className="config-details">
        <summary>Configuration ({entries.length} settings)</summary>
        <dl className="kv" aria-label="run configuration">
          {entries.map(([key, value]) => (
            <div key={key} style={{ display: 'contents' }}>
              <dt>
                <code>{key}</code>
              </dt>
              <dd className="mono">{value === null || value === undefined ? 'not set' : cellText(value)}</dd>
            </div>
          ))}
        </dl>
        {checks !== undefined && (
          <details>
            <summary>Check settings</summary>
            <pre className="mono">{JSON.stringify(checks, null, 2)}</pre>
          </details>
        )}
      </details>
    </Card>
  );
}

/** A Gantt strip per asset: when it started and how long it took, relative to the run. */
function Timeline(props: {
  assets: RunAsset[];
  selection: string[];
  runStart: string | null;
  running: boolean;
}) {
  const byName = new Map(props.assets.map((a) => [a.asset, a]));
  // An asset that never started (skipped before it ran) and a queued run have no start time.
  const at = (iso: string | null) => (iso === null ? Number.NaN : Date.parse(iso));
  const starts = props.assets.map((a) => at(a.started_at)).filter((t) => !Number.isNaN(t));
  const t0 = props.runStart !== null ? at(props.runStart) : starts.length > 0 ? Math.min(...starts) : 0;
  const end = Math.max(t0 + 1, ...props.assets.map((a) => at(a.finished_at ?? a.started_at) || t0));
  const span = end - t0;
  const color = (status: string) =>
    status === 'success'
      ? 'var(--ok)'
      : status === 'failed'
        ? 'var(--fail)'
        : status === 'skipped'
          ? 'var(--stale)'
          : 'var(--running)';
  const current = props.running ? props.selection.find((name) => !byName.has(name)) : undefined;
  return (
    <div className="gantt">
      {props.selection.map((name) => {
        const a = byName.get(name);
        const start = a && a.started_at !== null ? at(a.started_at) - t0 : 0;
        const width = a ? Math.max(0, (a.duration_ms ?? 0) / span) : 0;
        return (
          <div key={name} style={{ display: 'contents' }}>
            <span className="step-name">
              <Link to={`/assets/${name}`} className="mono" title={`open asset ${name}`}>
                {name}
              </Link>
              <button
                type="button"
                className="link"
                onClick={() => eventsOf(name)}
                aria-label={`events of ${name}`}
                title={`show the events of ${name} in the log below`}
              >
                events
              </button>
            </span>
            <div
              className="track"
              title={
                a
                  ? `${a.status} · ${duration(a.duration_ms)}${a.row_count !== null ? ` · ${count(a.row_count)} rows` : ''}`
                  : 'waiting'
              }
            >
              {a && (
                <div
                  className="seg"
                  style={{
                    left: `${(start / span) * 100}%`,
                    width: `${width * 100}%`,
                    background: color(a.status),
                  }}
                />
              )}
            </div>
            <span className="hint" style={{ textAlign: 'right' }}>
              {a
                ? a.status === 'success'
                  ? duration(a.duration_ms)
                  : a.status
                : name === current
                  ? 'running…'
                  : 'waiting'}
            </span>
          </div>
        );
      })}
    </div>
  );
}
