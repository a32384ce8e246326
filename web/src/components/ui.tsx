import { type ReactNode, useEffect, useState } from 'react';
import type { ApiError } from '../api.js';

type Tone = 'ok' | 'fail' | 'warn' | 'run' | 'idle';

const TONES: Record<string, Tone> = {
  success: 'ok',
  materialized: 'ok',
  fresh: 'ok',
  loaded: 'ok',
  enabled: 'ok',
  requested: 'ok',
  failed: 'fail',
  failure: 'fail',
  rejected: 'fail',
  error: 'fail',
  stale: 'warn',
  skipped: 'warn',
  duplicate: 'warn',
  retracted: 'idle',
  retracting: 'run',
  canceled: 'warn',
  missing: 'idle',
  never: 'idle',
  pending: 'idle',
  queued: 'run',
  running: 'run',
};

/** A coloured status pill; unknown statuses show neutral rather than guessing. */
export function StatusBadge(props: { status: string | null | undefined; label?: string }) {
  const status = props.status ?? 'never';
  return (
    <span className={`badge ${TONES[status] ?? 'idle'}`}>{props.label ?? status.replaceAll('_', ' ')}</span>
  );
}

export function Loading(props: { lines?: number }) {
  return (
    <div role="status" aria-busy="true" aria-label="loading">
      {Array.from({ length: props.lines ?? 4 }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity
        <div key={i} className="skeleton" style={{ width: `${90 - ((i * 17) % 40)}%` }} />
      ))}
    </div>
  );
}

export function Empty(props: { children: ReactNode }) {
  return <div className="state">{props.children}</div>;
}

export function ErrorState(props: { error: ApiError; onRetry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <div>{props.error.message}</div>
      {props.onRetry && (
        <button type="button" onClick={props.onRetry} style={{ marginTop: 10 }}>
          Try again
        </button>
      )}
    </div>
  );
}

export function ErrorBanner(props: { error: ApiError | null; onClose?: () => void }) {
  if (!props.error) return null;
  return (
    <div className="banner row" role="alert">
      <span className="grow">{props.error.message}</span>
      {props.onClose && (
        <button type="button" className="ghost" onClick={props.onClose} aria-label="dismiss">
          ✕
        </button>
      )}
    </div>
  );
}

export function Card(props: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  flush?: boolean;
  className?: string;
}) {
  return (
    <section className={`card${props.flush ? ' flush' : ''} ${props.className ?? ''}`}>
      {(props.title || props.actions) && (
        <div className="card-head" style={props.flush ? { padding: '14px 16px 0' } : undefined}>
          {typeof props.title === 'string' ? <h2>{props.title}</h2> : props.title}
          {props.actions && <div className="row">{props.actions}</div>}
        </div>
      )}
      {props.children}
    </section>
  );
}

export function Kpi(props: {
  label: string;
  value: ReactNode;
  note?: ReactNode;
  onClick?: () => void;
  title?: string;
}) {
  const body = (
    <>
      <div className="label">{props.label}</div>
      <div className="value">{props.value}</div>
      {props.note && <div className="note">{props.note}</div>}
    </>
  );
  return props.onClick ? (
    <button type="button" className="kpi" onClick={props.onClick} title={props.title}>
      {body}
    </button>
  ) : (
    <div className="kpi" title={props.title}>
      {body}
    </div>
  );
}

/** Renders a page's data only once it is there: skeleton first, then error, then empty, then content. */
export function Async<T>(props: {
  state: { data: T | null; error: ApiError | null; loading: boolean; reload(): void };
  empty?: (data: T) => ReactNode | null;
  children: (data: T) => ReactNode;
  lines?: number;
}) {
  const { data, error, loading } = props.state;
  if (error && !data) return <ErrorState error={error} onRetry={props.state.reload} />;
  if (loading && !data) return <Loading lines={props.lines} />;
  if (!data) return null;
  const empty = props.empty?.(data);
  if (empty) return <Empty>{empty}</Empty>;
  return <>{props.children(data)}</>;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `text` is a real calendar day written as YYYY-MM-DD (2025-02-30 is not). */
export function isIsoDay(text: string): boolean {
  if (!ISO_DAY.test(text)) return false;
  const time = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 10) === text;
}

/**
 * A day typed as ISO YYYY-MM-DD, like every date the UI shows. A native date input renders in the
 * browser's locale (mm/dd/yyyy in en-US), out of step with the rest of the page. The value is
 * committed on Enter or blur once it is a real day (or empty); anything else is flagged and kept
 * for correcting, never sent.
 */
export function DateInput(props: {
  label: string;
  value: string | null | undefined;
  min?: string | null | undefined;
  max?: string | null | undefined;
  onChange(day: string | null): void;
}) {
  const [text, setText] = useState(props.value ?? '');
  useEffect(() => setText(props.value ?? ''), [props.value]);
  const outOfRange =
    text !== '' && Boolean((props.min && text < props.min) || (props.max && text > props.max));
  const invalid = text !== '' && (!isIsoDay(text) || outOfRange);
  const commit = () => {
    if (invalid || text === (props.value ?? '')) return;
    props.onChange(text === '' ? null : text);
  };
  return (
    <input
      type="text"
      className="date-input"
      inputMode="numeric"
      placeholder="YYYY-MM-DD"
      pattern="\d{4}-\d{2}-\d{2}"
      maxLength={10}
      size={11}
      aria-label={props.label}
      aria-invalid={invalid}
      title={
        invalid
          ? outOfRange
            ? `a day from ${props.min ?? '…'} to ${props.max ?? '…'}`
            : 'a day as YYYY-MM-DD, e.g. 2025-06-05'
          : 'YYYY-MM-DD'
      }
      value={text}
      onChange={(e) => setText(e.target.value.trim())}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit();
      }}
    />
  );
}
