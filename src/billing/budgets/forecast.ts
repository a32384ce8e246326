import { addDays } from '../../orchestrator/days.js';
import { estimateOf, floatToMicros, fromMicros, toMicros } from './decimal.js';

/** One day's spend in the reporting currency; `amount` null = unknown (some events lack an FX rate). */
export interface DaySpend {
  day: string;
  amount: string | null;
}

export interface ForecastInput {
  /** Daily spend up to `asOf`; may reach back before the period (the training window does). */
  history: readonly DaySpend[];
  periodStart: string;
  periodEnd: string;
  /** The last day with data counted. */
  asOf: string;
  /** Known days the run-rate learns from, ending at `asOf`; default 28 (four of each weekday). */
  windowDays?: number;
}

export interface ForecastDay {
  day: string;
  expected: string;
  /** Cumulative band for the period up to and including this day. */
  low: string;
  high: string;
}

export interface Forecast {
  /** Exact sum of the known days of the period up to `asOf`. */
  spentToDate: string;
  /** Days of the period up to `asOf` whose spend is unknown (estimated, not counted as zero). */
  unknownDays: string[];
  /** Whole-period totals: spent to date plus the expected spend of `days`. */
  total: string;
  low: string;
  high: string;
  /** Estimated days: the unknown days up to `asOf`, then every day after it to the period's end. */
  days: ForecastDay[];
  method: string;
  /**
   * True when days remain to estimate but the window holds no known day to learn from (every
   * day's rate is missing): `total`, `low`, `high` and `days` are then placeholders, and callers
   * report the forecast as unknown, never as zero.
   */
  unknown: boolean;
}

export const DEFAULT_WINDOW_DAYS = 28;
/** Two-sided 80 % interval of a normal distribution. */
const Z_80 = 1.2816;

interface RunRate {
  mean(day: string): number;
  /** Standard deviation of one day's spend around its expectation. */
  daySd(day: string): number;
  /** Standard error of the weekday mean itself: shared by every day of that weekday. */
  levelSd(day: string): number;
  /**
   * Change of the level per day seen inside the window (recent half against the older half): not
   * extrapolated, since it is mostly noise on four weeks, but it widens the band as the run-rate
   * lags a real trend.
   */
  drift: number;
  /** The window's middle day, where the run-rate is exact for a linear trend. */
  center: string;
  trainedDays: number;
}

/**
 * Month-end forecast by trailing run-rate per weekday (see docs/budgets-alerts.md, "Forecast
 * method"). Pure and deterministic: the same input gives the same decimal strings.
 */
export function forecastPeriod(input: ForecastInput): Forecast {
  const { periodStart, periodEnd, asOf } = input;
  const windowDays = input.windowDays ?? DEFAULT_WINDOW_DAYS;
  if (!Number.isInteger(windowDays) || windowDays < 1)
    throw new RangeError('windowDays must be a positive integer');
  if (periodStart > periodEnd) throw new RangeError(`period ${periodStart}..${periodEnd} is empty`);

  const byDay = new Map<string, string | null>();
  for (const d of input.history) byDay.set(d.day, d.amount);
  const firstDay = [...byDay.keys()].sort()[0] ?? asOf;
  // A day absent from the history had no events: zero spend, known. Only null is unknown.
  const spendOf = (day: string): string | null => (byDay.has(day) ? (byDay.get(day) ?? null) : '0');

  let spent = 0n;
  const unknownDays: string[] = [];
  const countedTo = minDay(asOf, periodEnd);
  for (let day = periodStart; day <= countedTo; day = addDays(day, 1)) {
    if (day < firstDay) continue;
    const amount = spendOf(day);
    if (amount === null) unknownDays.push(day);
    else spent += toMicros(amount);
  }

  const estimated = [...unknownDays];
  for (
    let day = asOf < periodStart ? periodStart : addDays(asOf, 1);
    day <= periodEnd;
    day = addDays(day, 1)
  ) {
    estimated.push(day);
  }
  const rate = trainRunRate(spendOf, { from: maxDay(firstDay, addDays(asOf, 1 - windowDays)), to: asOf });

  let expectedTotal = 0;
  let independentVar = 0;
  const levelByWeekday = new Map<number, number>();
  const days: ForecastDay[] = [];
  let driftSum = 0;
  for (const day of estimated) {
    const expected = rate.mean(day);
    expectedTotal += expected;
    independentVar += rate.daySd(day) ** 2;
    // Errors in a weekday's mean repeat on every day of that weekday: they add up, not in quadrature.
    const weekday = weekdayOf(day);
    levelByWeekday.set(weekday, (levelByWeekday.get(weekday) ?? 0) + rate.levelSd(day));
    driftSum += rate.drift * Math.max(0, daysBetween(rate.center, day));
    const spread = Z_80 * Math.sqrt(independentVar + sumSquares(levelByWeekday) + driftSum ** 2);
    const cumulative = Number(spent) / 1e6 + expectedTotal;
    days.push({
      day,
      expected: fromMicros(floatToMicros(expected)),
      low: fromMicros(maxMicros(spent, floatToMicros(cumulative - spread))),
      high: fromMicros(floatToMicros(cumulative + spread)),
    });
  }
  const spreadTotal = Z_80 * Math.sqrt(independentVar + sumSquares(levelByWeekday) + driftSum ** 2);
  const total = spent + sumMicros(days.map((d) => toMicros(d.expected)));
  return {
    spentToDate: fromMicros(spent),
    unknownDays,
    total: fromMicros(total),
    low: fromMicros(maxMicros(spent, total - floatToMicros(spreadTotal))),
    high: fromMicros(total + floatToMicros(spreadTotal)),
    days,
    method: `weekday run-rate over the last ${windowDays} days to ${asOf} (${rate.trainedDays} known), 80% band`,
    unknown: estimated.length > 0 && rate.trainedDays === 0,
  };
}

function trainRunRate(
  spendOf: (day: string) => string | null,
  window: { from: string; to: string },
): RunRate {
  const samples = new Map<number, number[]>();
  const all: number[] = [];
  for (let day = window.from; day <= window.to; day = addDays(day, 1)) {
    const amount = spendOf(day);
    if (amount === null) continue;
    const value = estimateOf(amount);
    const weekday = weekdayOf(day);
    samples.set(weekday, [...(samples.get(weekday) ?? []), value]);
    all.push(value);
  }
  const overall = mean(all);
  const means = new Map([...samples].map(([weekday, values]) => [weekday, mean(values)]));
  // One relative spread pooled over all weekdays: four samples per weekday are too few on their own.
  let squares = 0;
  let freedom = 0;
  for (const [weekday, values] of samples) {
    const m = means.get(weekday) ?? 0;
    if (m <= 0) continue;
    for (const v of values) squares += ((v - m) / m) ** 2;
    freedom += values.length - 1;
  }
  // Weekday-balanced halves when the window holds whole weeks.
  const half = Math.floor(all.length / 2);
  const older = mean(all.slice(0, half));
  const recent = mean(all.slice(all.length - half));
  const drift = half > 0 ? Math.abs(recent - older) / Math.max(1, all.length - half) : 0;
  const relSd = freedom > 0 ? Math.sqrt(squares / freedom) : all.length > 0 ? 0.5 : 0;
  const countOf = (day: string) => samples.get(weekdayOf(day))?.length ?? all.length;
  const meanOf = (day: string) => means.get(weekdayOf(day)) ?? overall;
  return {
    mean: meanOf,
    daySd: (day) => Math.abs(meanOf(day)) * relSd,
    levelSd: (day) => {
      const n = countOf(day);
      return n > 0 ? (Math.abs(meanOf(day)) * relSd) / Math.sqrt(n) : 0;
    },
    drift,
    center: addDays(window.from, Math.floor(daysBetween(window.from, window.to) / 2)),
    trainedDays: all.length,
  };
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);
}

function weekdayOf(day: string): number {
  return new Date(`${day}T00:00:00Z`).getUTCDay();
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

function sumSquares(values: Map<number, number>): number {
  let total = 0;
  for (const v of values.values()) total += v * v;
  return total;
}

function sumMicros(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n);
}

function maxMicros(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

// Days compare as text (YYYY-MM-DD); Math.min would turn them into NaN.
function maxDay(a: string, b: string): string {
  return a > b ? a : b;
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}
