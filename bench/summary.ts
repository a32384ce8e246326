import type { Figure, Goal } from './stats.js';
import { fmt, judge, median } from './stats.js';

/**
 * One row of issue 12's table, printed side by side at the end of a run: what the pipeline took, what
 * the raw reference doing the same work took, their ratio, and the goal. `order` puts the rows in the
 * issue's order whatever order the sections ran in.
 */
export interface SummaryRow {
  order: number;
  measure: string;
  /** "1.23 s" — the pipeline's median. */
  pipeline: string;
  /** "0.98 s raw DuckDB" — the reference's median and what it is; '-' when the goal is absolute. */
  reference: string;
  /** "≤ 1.2×", "< 0.5 s", "≥ 0.5×". */
  goalText: string;
  /** The judged figure: a ratio for relative goals, the absolute value otherwise. */
  goal: Goal;
}

const limitText = (limit: number, unit: string) =>
  unit === 'x' ? `${fmt(limit, unit)}×` : `${fmt(limit, unit)} ${unit}`;

export const seconds = (s: number): string => (Number.isFinite(s) ? `${fmt(s, 's')} s` : '-');

/** A ratio row: pipeline / reference, judged on the median of per-repetition ratios. */
export function ratioRow(spec: {
  order: number;
  measure: string;
  pipeline: readonly number[];
  reference: readonly number[];
  referenceLabel: string;
  /** Per-repetition ratios; by default pipeline[i] / reference[i]. */
  ratios?: readonly number[];
  limit: number;
  inclusive?: boolean;
  unit?: string;
  note?: string;
}): SummaryRow {
  const unit = spec.unit ?? 's';
  const ratios =
    spec.ratios ?? spec.pipeline.map((p, i) => p / (spec.reference[i] ?? spec.reference[0] ?? Number.NaN));
  const show = (xs: readonly number[]) =>
    unit === 's' ? seconds(median(xs)) : `${fmt(median(xs), unit)} ${unit}`;
  return {
    order: spec.order,
    measure: spec.measure,
    pipeline: show(spec.pipeline),
    reference: `${show(spec.reference)} ${spec.referenceLabel}`,
    goalText: `${(spec.inclusive ?? true) ? '≤' : '<'} ${limitText(spec.limit, 'x')}`,
    goal: judge(spec.measure, median(ratios), spec.limit, 'x', spec.inclusive ?? true, spec.note),
  };
}

/** A row whose goal is an absolute figure (seconds, MB, ms), with an optional reference beside it. */
export function absoluteRow(spec: {
  order: number;
  measure: string;
  value: number | null;
  unit: string;
  limit: number;
  inclusive?: boolean;
  reference?: string;
  note?: string;
}): SummaryRow {
  const shown =
    spec.value === null || !Number.isFinite(spec.value) ? '-' : `${fmt(spec.value, spec.unit)} ${spec.unit}`;
  return {
    order: spec.order,
    measure: spec.measure,
    pipeline: shown,
    reference: spec.reference ?? '-',
    goalText: `${spec.inclusive ? '≤' : '<'} ${limitText(spec.limit, spec.unit)}`,
    goal: judge(spec.measure, spec.value, spec.limit, spec.unit, spec.inclusive ?? false, spec.note),
  };
}

/**
 * The scale-out rows come from helper sections' figures (bench/sections/scale-out.ts): the embedded vs
 * 1 worker throughput ratio (inverted: the goal is 1 worker ≥ 0.5× embedded) and, when measured, a
 * figure named "…pickup…" in ms (or s) whose median is the queue's pickup latency.
 */
export function scaleOutRows(figures: readonly Figure[]): SummaryRow[] {
  const so = figures.filter((f) => f.section === 'scale-out');
  const rows: SummaryRow[] = [];
  const embedded = so.find((f) => /embedded DuckDB: rows\/s/i.test(f.name));
  const one = so.find((f) => /^1 worker: rows\/s/i.test(f.name));
  const ratio = so.find((f) => /embedded vs 1 worker/i.test(f.name));
  const inverse = so.find((f) => /1 worker vs embedded/i.test(f.name));
  const ratios = inverse?.samples ?? ratio?.samples.map((r) => 1 / r) ?? [];
  const rowsPerS = (f: Figure | undefined) => (f ? `${fmt(f.median, 'rows/s')} rows/s` : '-');
  const oneWorker = median(ratios);
  rows.push({
    order: 8,
    measure: 'scale-out: 1 worker vs embedded rows/s',
    pipeline: `${rowsPerS(one)} (1 worker)`,
    reference: `${rowsPerS(embedded)} embedded`,
    goalText: '≥ 0.5×',
    goal: {
      ...judge('scale-out: 1 worker vs embedded rows/s', oneWorker, 0.5, 'x', true),
      // Higher is better here: judge() checks "≤", so the verdict is flipped by hand.
      ...(Number.isFinite(oneWorker)
        ? {
            status: oneWorker >= 0.5 ? 'PASS' : 'MISS',
            margin:
              oneWorker >= 0.5
                ? `${((oneWorker / 0.5 - 1) * 100).toFixed(0)}% over the floor`
                : `${((1 - oneWorker / 0.5) * 100).toFixed(0)}% under the floor (${(oneWorker / 0.5).toFixed(2)}x of it)`,
          }
        : {}),
    },
  });
  // The median figure when the section reports several (p95, max), else the first "pickup" figure.
  const pickups = so.filter((f) => /pickup/i.test(f.name) && (f.unit === 'ms' || f.unit === 's'));
  const pickup = pickups.find((f) => !/p9\d|max/i.test(f.name)) ?? pickups[0];
  const pickupMs = pickup ? (pickup.unit === 's' ? pickup.median * 1000 : pickup.median) : null;
  rows.push(
    absoluteRow({
      order: 9,
      measure: 'scale-out: pickup latency of a queued task (median)',
      value: pickupMs,
      unit: 'ms',
      limit: 50,
      note: pickup ? undefined : 'no pickup-latency figure in the scale-out section',
    }),
  );
  return rows;
}

export function renderSummary(rows: readonly SummaryRow[]): string {
  const sorted = [...rows].sort((a, b) => a.order - b.order);
  const header = ['measure (issue 12)', 'pipeline', 'raw reference', 'ratio/value', 'goal', 'status'];
  const cells = sorted.map((r) => [
    r.measure,
    r.pipeline,
    r.reference,
    r.goal.measured === null ? '-' : limitText(r.goal.measured, r.goal.unit),
    r.goalText,
    r.goal.status,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]) =>
    c
      .map((x, i) => (i === 3 ? x.padStart(widths[i] as number) : x.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const notes = sorted.filter((r) => r.goal.note).map((r) => `  ${r.measure}: ${r.goal.note}`);
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map(line),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}
