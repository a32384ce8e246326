import { type KeyboardEvent, type PointerEvent, useEffect, useMemo, useRef, useState } from 'react';
import { addDays, count, dayIndex } from '../format.js';

/** State codes from GET /api/assets/{name}/partitions, most important first. */
const ORDER = ['r', 'f', 'x', 's', 'm', '.'] as const;
const NAMES: Record<string, string> = {
  r: 'running',
  f: 'failed',
  x: 'missing',
  s: 'stale',
  m: 'materialized',
  '.': 'no partition',
};
const VARS: Record<string, string> = {
  r: '--running',
  f: '--fail',
  x: '--missing',
  s: '--stale',
  m: '--ok',
  '.': '--empty',
};

export const PARTITION_LEGEND = ORDER.slice(0, 5).map((code) => ({
  code,
  name: NAMES[code] ?? code,
  color: `var(${VARS[code]})`,
}));

export interface DayRange {
  from: string;
  to: string;
}

/** Priority per day (0 = most important), computed once per answer. */
function priorities(states: string): Uint8Array {
  const out = new Uint8Array(states.length);
  for (let i = 0; i < states.length; i++) {
    const p = ORDER.indexOf(states.charAt(i) as (typeof ORDER)[number]);
    out[i] = p < 0 ? ORDER.length - 1 : p;
  }
  return out;
}

/** Days [start, end) drawn in column `c` of `columns`. */
const bucket = (c: number, columns: number, n: number): [number, number] => [
  Math.floor((c * n) / columns),
  Math.max(Math.floor((c * n) / columns) + 1, Math.floor(((c + 1) * n) / columns)),
];

/**
 * Every day of an asset in one bar. It draws on a canvas, one device pixel column per bucket of
 * days, and each bucket shows its most important state (a failure is never averaged away), so
 * 100,000 days cost one pass over a byte array, not 100,000 DOM nodes. Drag to select a range.
 */
export function PartitionBar(props: {
  states: string;
  first: string;
  selection: DayRange | null;
  onSelect(range: DayRange): void;
}) {
  const { states, first, selection, onSelect } = props;
  const n = states.length;
  const prio = useMemo(() => priorities(states), [states]);
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<{ x: number; start: number; end: number } | null>(null);
  const [drag, setDrag] = useState<{ anchor: number; current: number } | null>(null);
  const [themeTick, setThemeTick] = useState(0);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.observe(el);
    setWidth(el.clientWidth);
    const onTheme = () => setThemeTick((t) => t + 1);
    window.addEventListener('themechange', onTheme);
    return () => {
      observer.disconnect();
      window.removeEventListener('themechange', onTheme);
    };
  }, []);

  const dpr = window.devicePixelRatio || 1;
  const columns = Math.max(1, Math.min(n, Math.floor(width * dpr)));
  const dayOfX = (x: number) => Math.min(n - 1, Math.max(0, Math.floor((x / Math.max(1, width)) * n)));

  const shown: DayRange | null = drag
    ? {
        from: addDays(first, Math.min(drag.anchor, drag.current)),
        to: addDays(first, Math.max(drag.anchor, drag.current)),
      }
    : selection;

  // biome-ignore lint/correctness/useExhaustiveDependencies: themeTick re-reads the colours after a theme switch
  useEffect(() => {
    const el = canvas.current;
    if (!el || width === 0 || n === 0) return;
    const height = 44;
    el.width = Math.floor(width * dpr);
    el.height = height * dpr;
    const ctx = el.getContext('2d');
    if (!ctx) return;
    const style = getComputedStyle(el);
    const colors = ORDER.map((code) => style.getPropertyValue(VARS[code] ?? '--empty').trim() || '#888');
    ctx.clearRect(0, 0, el.width, el.height);
    const columnWidth = el.width / columns;
    // Few days: draw each as a block with a hairline gap so single days stay distinguishable.
    const gap = columnWidth >= 4 * dpr ? Math.max(1, Math.round(dpr)) : 0;
    for (let c = 0; c < columns; c++) {
      const [start, end] = bucket(c, columns, n);
      let best = ORDER.length - 1;
      for (let i = start; i < end && best > 0; i++) best = Math.min(best, prio[i] ?? best);
      ctx.fillStyle = colors[best] ?? '#888';
      const x0 = Math.floor(c * columnWidth);
      const x1 = Math.floor((c + 1) * columnWidth) - gap;
      ctx.fillRect(x0, 0, Math.max(1, x1 - x0), el.height);
    }
    if (shown) {
      const a = Math.max(0, dayIndex(first, shown.from));
      const b = Math.min(n - 1, dayIndex(first, shown.to));
      const x0 = Math.floor((a / n) * el.width);
      const x1 = Math.max(x0 + 2 * dpr, Math.ceil(((b + 1) / n) * el.width));
      ctx.fillStyle = 'rgba(255,255,255,0.28)';
      ctx.fillRect(x0, 0, x1 - x0, el.height);
      ctx.strokeStyle = style.getPropertyValue('--text').trim() || '#000';
      ctx.lineWidth = 2 * dpr;
      ctx.strokeRect(x0 + dpr, dpr, x1 - x0 - 2 * dpr, el.height - 2 * dpr);
    }
  }, [prio, width, columns, dpr, n, first, shown?.from, shown?.to, themeTick]);

  const xOf = (event: PointerEvent<HTMLCanvasElement>) =>
    event.clientX - event.currentTarget.getBoundingClientRect().left;

  /** A click on a bucket of many days picks its most important day, so a red pixel opens the failure. */
  const pick = (x: number): number => {
    const c = Math.min(columns - 1, Math.floor((x / Math.max(1, width)) * columns));
    const [start, end] = bucket(c, columns, n);
    let best = start;
    for (let i = start; i < end; i++) if ((prio[i] ?? 9) < (prio[best] ?? 9)) best = i;
    return best;
  };

  const onPointerDown = (event: PointerEvent<HTMLCanvasElement>) => {
    event.currentTarget.setPointerCapture(event.pointerId);
    const day = pick(xOf(event));
    setDrag({ anchor: day, current: day });
  };
  const onPointerMove = (event: PointerEvent<HTMLCanvasElement>) => {
    const x = xOf(event);
    const c = Math.min(columns - 1, Math.max(0, Math.floor((x / Math.max(1, width)) * columns)));
    const [start, end] = bucket(c, columns, n);
    setHover({ x, start, end });
    if (drag) setDrag({ ...drag, current: dayOfX(x) });
  };
  const onPointerUp = () => {
    if (!drag) return;
    const a = Math.min(drag.anchor, drag.current);
    const b = Math.max(drag.anchor, drag.current);
    setDrag(null);
    onSelect({ from: addDays(first, a), to: addDays(first, b) });
  };
  const onKeyDown = (event: KeyboardEvent<HTMLCanvasElement>) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (event.key === 'Home' || event.key === 'End') {
      const day = addDays(first, event.key === 'Home' ? 0 : n - 1);
      onSelect({ from: day, to: day });
      event.preventDefault();
      return;
    }
    if (step === 0) return;
    event.preventDefault();
    const current = selection
      ? dayIndex(first, event.shiftKey ? selection.to : selection.from)
      : step > 0
        ? -1
        : n;
    const next = addDays(first, Math.min(n - 1, Math.max(0, current + step)));
    onSelect(
      event.shiftKey && selection
        ? next < selection.from
          ? { from: next, to: selection.from }
          : { from: selection.from, to: next }
        : { from: next, to: next },
    );
  };

  const label = useMemo(() => {
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) counts.set(states.charAt(i), (counts.get(states.charAt(i)) ?? 0) + 1);
    const parts = ORDER.filter((c) => counts.get(c)).map((c) => `${count(counts.get(c))} ${NAMES[c]}`);
    return `${count(n)} days from ${first} to ${addDays(first, n - 1)}: ${parts.join(', ')}`;
  }, [states, n, first]);

  const tooltip = hover && !drag ? describeBucket(states, first, hover.start, hover.end) : null;
  return (
    <div className="pbar" ref={wrap} data-days={n}>
      <canvas
        ref={canvas}
        role="img"
        aria-label={label}
        tabIndex={0}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerLeave={() => setHover(null)}
        onKeyDown={onKeyDown}
      />
      {tooltip && hover && (
        <div className="tooltip" style={{ left: Math.min(Math.max(hover.x, 80), width - 80) }}>
          {tooltip}
        </div>
      )}
      <div className="axis">
        <span>{first}</span>
        <span>{n > 2 ? addDays(first, Math.floor(n / 2)) : ''}</span>
        <span>{addDays(first, n - 1)}</span>
      </div>
    </div>
  );
}

function describeBucket(states: string, first: string, start: number, end: number): string {
  if (end - start <= 1) return `${addDays(first, start)} · ${NAMES[states.charAt(start)] ?? 'unknown'}`;
  const counts = new Map<string, number>();
  for (let i = start; i < end; i++) counts.set(states.charAt(i), (counts.get(states.charAt(i)) ?? 0) + 1);
  const parts = ORDER.filter((c) => counts.get(c)).map((c) => `${counts.get(c)} ${NAMES[c]}`);
  return `${addDays(first, start)} – ${addDays(first, end - 1)} · ${parts.join(', ')}`;
}
