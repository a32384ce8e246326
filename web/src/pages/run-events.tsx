import { Fragment, useState } from 'react';
import { cellText, count, exactMoney } from '../format.js';
import { Link, setQuery, useLocation } from '../router.js';
import type { RunDetail, RunEventRow } from '../types.js';

/** Filters of the event log, kept in the address so a step's "events" link can set them. */
const FILTERS = ['level', 'asset', 'type'] as const;
type Filter = (typeof FILTERS)[number];

/** The link from an asset step (the timeline) to its events: the log filtered to that asset. */
export function eventsOf(asset: string, level?: string): void {
  setQuery({ asset, level, type: null }, { replace: true });
  document.getElementById('event-log')?.scrollIntoView({ block: 'start' });
}

/**
 * A failed run says first where and why: the failing step, its error and a link to its events,
 * above everything else on the page.
 */
export function ErrorSummary(props: { detail: RunDetail }) {
  const { run, assets, events } = props.detail;
  if (run.status !== 'failed' && !run.error) return null;
  const step = assets.find((a) => a.status === 'failed');
  const firstError = events.find((e) => e.level === 'error' && (!step || e.asset === step.asset));
  const message = step?.error ?? firstError?.message ?? run.error ?? 'the run failed without a message';
  const skipped = assets.filter((a) => a.status === 'skipped').map((a) => a.asset);
  return (
    <section className="error-summary" aria-label="error summary" role="alert">
      <div className="error-summary-head">
        <b>
          {step ? (
            <>
              Failed at step <code>{step.asset}</code>
            </>
          ) : (
            'The run failed'
          )}
        </b>
        {step && (
          <button type="button" className="link" onClick={() => eventsOf(step.asset)}>
            Show its events
          </button>
        )}
      </div>
      <p className="error-message">{message}</p>
      {run.error && !run.error.includes(message) && <p className="error-message">{run.error}</p>}
      {skipped.length > 0 && (
        <p className="hint">
          Not run because of it:{' '}
          {skipped.map((s, i) => (
            <Fragment key={s}>
              {i > 0 && ', '}
              <code>{s}</code>
            </Fragment>
          ))}
        </p>
      )}
    </section>
  );
}

export function EventLog(props: { events: RunEventRow[]; waiting: boolean }) {
  const location = useLocation();
  const value = (f: Filter) => location.query.get(f) ?? '';
  const options = (f: Filter) =>
    [...new Set(props.events.map((e) => e[f]).filter((v): v is string => !!v))].sort();
  const shown = props.events.filter((e) => FILTERS.every((f) => !value(f) || e[f] === value(f)));
  const [open, setOpen] = useState<Set<number>>(new Set());
  const toggle = (seq: number) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(seq)) next.delete(seq);
      else next.add(seq);
      return next;
    });
  const filtered = FILTERS.some((f) => value(f));
  return (
    <div id="event-log">
      <fieldset className="log-filters row" aria-label="event log filters">
        {FILTERS.map((f) => (
          <label key={f} className="field">
            {f === 'type' ? 'Event' : f === 'level' ? 'Level' : 'Asset'}
            <select
              aria-label={`filter by ${f === 'type' ? 'event type' : f}`}
              value={value(f)}
              onChange={(e) => setQuery({ [f]: e.target.value }, { replace: true })}
            >
              <option value="">all</option>
              {options(f).map((o) => (
                <option key={o} value={o}>
                  {o} ({count(props.events.filter((e) => e[f] === o).length)})
                </option>
              ))}
            </select>
          </label>
        ))}
        <span className="hint grow" aria-live="polite">
          {filtered
            ? `${count(shown.length)} of ${count(props.events.length)} events`
            : `${count(shown.length)} events`}
        </span>
        {filtered && (
          <button
            type="button"
            onClick={() => setQuery({ level: null, asset: null, type: null }, { replace: true })}
          >
            Clear filters
          </button>
        )}
      </fieldset>
      <table aria-label="event log" className="event-log">
        <colgroup>
          <col style={{ width: 104 }} />
          <col style={{ width: 64 }} />
          <col style={{ width: 176 }} />
          <col style={{ width: 206 }} />
          <col />
        </colgroup>
        <thead>
          <tr>
            <th>Time</th>
            <th>Level</th>
            <th>Event</th>
            <th>Asset</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {shown.length === 0 && (
            <tr>
              <td colSpan={5} className="state">
                {props.waiting
                  ? 'Waiting for the first event…'
                  : filtered
                    ? 'No event matches these filters.'
                    : 'No events.'}
              </td>
            </tr>
          )}
          {shown.map((e) => {
            const hasData = !!e.data && Object.keys(e.data).length > 0;
            const expanded = open.has(e.seq);
            return (
              <Fragment key={e.seq}>
                <tr className={`level-row-${e.level}`}>
                  <td className="mono">{String(e.logged_at).slice(11, 23)}</td>
                  <td>
                    <span className={`level-${e.level}`}>{e.level}</span>
                  </td>
                  <td className="cut" title={e.type}>
                    <code>{e.type}</code>
                  </td>
                  <td className="cut" title={e.asset ?? undefined}>
                    {e.asset ? <Link to={`/assets/${e.asset}`}>{e.asset}</Link> : ''}
                  </td>
                  <td className="message">
                    {e.message}
                    {hasData && (
                      <button
                        type="button"
                        className="link details-toggle"
                        aria-expanded={expanded}
                        onClick={() => toggle(e.seq)}
                      >
                        {expanded ? 'hide details' : `details (${Object.keys(e.data ?? {}).length})`}
                      </button>
                    )}
                  </td>
                </tr>
                {expanded && (
                  <tr className="details-row">
                    <td colSpan={5}>
                      <DataChips data={e.data} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** An amount with its currency (`{amount, currency}`, as the API's Money): shown as "12.50 USD". */
function isMoney(value: unknown): value is { amount: string | null; currency: string } {
  if (!value || typeof value !== 'object') return false;
  const { amount, currency } = value as Record<string, unknown>;
  return typeof currency === 'string' && (amount === null || typeof amount === 'string');
}

/** Event data as labelled values, not a JSON blob. */
export function DataChips(props: { data: unknown }) {
  let data = props.data;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch {
      return <span className="hint">{data as string}</span>;
    }
  }
  if (!data || typeof data !== 'object') return null;
  return (
    <span className="hint data-chips">
      {Object.entries(data as Record<string, unknown>).map(([k, v]) => (
        <span key={k}>
          {k} <b>{typeof v === 'number' ? count(v) : isMoney(v) ? exactMoney(v) : cellText(v)}</b>
        </span>
      ))}
    </span>
  );
}
