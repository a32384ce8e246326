/**
 * The anomaly rule shared by the `volume_anomaly` check and the spend-anomaly insight: a value is
 * compared with the median of its trailing window, in units of the window's median absolute
 * deviation (MAD) scaled to a standard deviation. These are statistics for flagging, computed in
 * DOUBLE; the amounts shown beside them stay exact.
 */

/** MAD × 1.4826 estimates σ for normal data, so |z| reads like a classic z-score. */
export const MAD_TO_SIGMA = 1.4826;

export interface AnomalyRule {
  /** Trailing window, in calendar days before the day scored. */
  window_days: number;
  /** Fewer values than this in the window: not scored. */
  min_history_days: number;
  /** |robust z| at or above this is anomalous. */
  max_robust_z: number;
  /** …and only if |value − median| is at least this share of |median| (1 = doubled or vanished). */
  min_relative_change: number;
}

export interface Observation {
  value: number;
  median: number;
  mad: number;
  historyDays: number;
}

/** (value − median) / (1.4826 · MAD); null when the window has no spread (MAD 0). */
export function robustZ(o: Pick<Observation, 'value' | 'median' | 'mad'>): number | null {
  return o.mad > 0 ? (o.value - o.median) / (MAD_TO_SIGMA * o.mad) : null;
}

/**
 * Anomalous when there is enough history, the change is large relative to the median, and either
 * |z| ≥ the limit or the window had no spread at all (a flat baseline makes any large jump stand out).
 */
export function isAnomalous(o: Observation, rule: AnomalyRule): boolean {
  if (o.historyDays < rule.min_history_days) return false;
  const deviation = Math.abs(o.value - o.median);
  if (deviation === 0 || deviation < rule.min_relative_change * Math.abs(o.median)) return false;
  const z = robustZ(o);
  return z === null || Math.abs(z) >= rule.max_robust_z;
}

/** The same rule in SQL over columns/expressions; numeric settings are validated numbers. */
export function anomalySql(
  e: { value: string; median: string; mad: string; history: string },
  rule: AnomalyRule,
): { z: string; anomalous: string } {
  const diff = `CAST(${e.value} - ${e.median} AS DOUBLE PRECISION)`;
  const z = `CASE WHEN ${e.mad} > 0 THEN ${diff} / (${MAD_TO_SIGMA} * CAST(${e.mad} AS DOUBLE PRECISION)) END`;
  const anomalous = `(${e.history} >= ${Number(rule.min_history_days)}
    AND ${diff} <> 0
    AND abs(${diff}) >= ${Number(rule.min_relative_change)} * abs(CAST(${e.median} AS DOUBLE PRECISION))
    AND (NOT (${e.mad} > 0) OR abs(${z}) >= ${Number(rule.max_robust_z)}))`;
  return { z, anomalous };
}

/**
 * The median of `value` as an aggregate, portable: PostgreSQL has no `median` and accepts ordered-set
 * aggregates only as plain aggregates (never as window functions), so a trailing-window median is a
 * self-join over the window grouped by the row scored. Interpolates like DuckDB's median of a DOUBLE.
 */
export const medianOf = (value: string) => `percentile_cont(0.5) WITHIN GROUP (ORDER BY ${value})`;
