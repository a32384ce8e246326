import {
  Area,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { BudgetDay } from '../budget-api.js';
import { addDays, compactMoney, money } from '../format.js';
import { tooltipStyle, useChartColors } from './chart-theme.js';

/**
 * A budget's period: cumulative actual spend, then the forecast to the period's end with its
 * low/high band, against the budget amount and its thresholds. Values become numbers only to be
 * drawn; the tooltip shows the server's exact strings with the currency. A day whose spend is
 * unknown (events without an FX rate) is marked, never drawn as a zero-spend day.
 */

interface Point {
  day: string;
  actual: number | null;
  forecast: number | null;
  band: [number, number] | null;
  unknown: boolean;
  exact: { actual: string | null; forecast: string | null; low: string | null; high: string | null };
}

const drawn = (value: string | null) => (value === null ? null : Number(value));

/**
 * A day with no events at all has no row (in a budget scoped to one user, most days): it is
 * filled in with the spend so far, so the x axis keeps one slot per calendar day.
 */
function everyDay(days: readonly BudgetDay[]): BudgetDay[] {
  const out: BudgetDay[] = [];
  for (const d of days) {
    const previous = out[out.length - 1];
    if (previous?.kind === 'actual' && d.kind === 'actual') {
      for (let day = addDays(previous.day, 1); day < d.day; day = addDays(day, 1)) {
        const last = out[out.length - 1] ?? previous;
        out.push({ ...last, day, spend: '0', cumulative: last.cumulative });
      }
    }
    out.push(d);
  }
  return out;
}

export function toPoints(days: readonly BudgetDay[]): Point[] {
  const points: Point[] = everyDay(days).map((d) => {
    const actual = d.kind === 'actual';
    const low = actual ? null : drawn(d.forecastLow);
    const high = actual ? null : drawn(d.forecastHigh);
    return {
      day: d.day,
      actual: actual ? drawn(d.cumulative) : null,
      forecast: actual ? null : drawn(d.cumulative),
      band: low !== null && high !== null ? [low, high] : null,
      unknown: actual && d.spend === null,
      exact: {
        actual: actual ? d.cumulative : null,
        forecast: actual ? null : d.cumulative,
        low: actual ? null : d.forecastLow,
        high: actual ? null : d.forecastHigh,
      },
    };
  });
  // The forecast starts where the actual line ends, so the two read as one path.
  const lastActual = points.findLastIndex((p) => p.actual !== null);
  const joint = points[lastActual];
  if (joint && joint.actual !== null && lastActual + 1 < points.length) {
    joint.forecast = joint.actual;
    joint.band = [joint.actual, joint.actual];
  }
  return points;
}

export function BurnDownChart(props: {
  days: readonly BudgetDay[];
  amount: string;
  thresholds: readonly number[];
  currency: string;
}) {
  const colors = useChartColors();
  const points = toPoints(props.days);
  const amount = Number(props.amount);
  const unknownDays = points.filter((p) => p.unknown).map((p) => p.day);
  const label = (value: string | null) => (value === null ? 'unknown' : `${money(value)} ${props.currency}`);
  return (
    <div data-chart="burn-down" data-days={points.length} data-unknown-days={unknownDays.length}>
      <div style={{ height: 300 }}>
        <ResponsiveContainer width="100%" height="100%">
          <ComposedChart data={points} margin={{ top: 14, right: 16, bottom: 0, left: 8 }}>
            <CartesianGrid vertical={false} stroke={colors.grid} />
            <XAxis
              dataKey="day"
              tick={{ fontSize: 11, fill: colors.muted }}
              tickFormatter={(day: string) => day.slice(5)}
              minTickGap={20}
              stroke={colors.grid}
            />
            <YAxis
              tick={{ fontSize: 11, fill: colors.muted }}
              tickFormatter={compactMoney}
              stroke={colors.grid}
              width={64}
              domain={[0, (max: number) => Math.max(max, amount) * 1.05]}
              label={{
                value: props.currency,
                angle: -90,
                position: 'insideLeft',
                style: { fontSize: 11, fill: colors.muted },
              }}
            />
            <Tooltip
              {...tooltipStyle(colors)}
              content={({ active, payload }) => {
                const point = payload?.[0]?.payload as Point | undefined;
                if (!active || !point) return null;
                return (
                  <div
                    className="recharts-default-tooltip chart-tip"
                    style={tooltipStyle(colors).contentStyle}
                  >
                    <b>{point.day}</b>
                    {point.exact.actual !== null && <div>Spent to date: {label(point.exact.actual)}</div>}
                    {point.unknown && <div className="unknown">spend of this day unknown (no FX rate)</div>}
                    {point.exact.forecast !== null && <div>Forecast: {label(point.exact.forecast)}</div>}
                    {point.exact.low !== null && (
                      <div className="hint">
                        band {label(point.exact.low)} – {label(point.exact.high)}
                      </div>
                    )}
                  </div>
                );
              }}
            />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Area
              dataKey="band"
              name={`Forecast band (${props.currency})`}
              className="forecast-band"
              stroke="none"
              fill={colors.series[0]}
              fillOpacity={0.15}
              connectNulls={false}
              isAnimationActive={false}
            />
            <Line
              dataKey="actual"
              name={`Spent (${props.currency})`}
              className="actual-line"
              stroke={colors.series[0]}
              strokeWidth={2.2}
              dot={false}
              connectNulls
              isAnimationActive={false}
            />
            <Line
              dataKey="forecast"
              name={`Forecast (${props.currency})`}
              className="forecast-line"
              stroke={colors.series[0]}
              strokeDasharray="5 4"
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
            />
            <ReferenceLine
              y={amount}
              stroke={colors.fail}
              strokeWidth={1.5}
              className="budget-line"
              label={{
                value: `budget ${money(props.amount)} ${props.currency}`,
                position: 'insideTopRight',
                fontSize: 11,
                fill: colors.fail,
              }}
            />
            {props.thresholds
              .filter((t) => t !== 100)
              .map((t) => (
                <ReferenceLine
                  key={t}
                  y={(amount * t) / 100}
                  stroke={colors.muted}
                  strokeDasharray="2 4"
                  className="threshold-line"
                  label={{ value: `${t} %`, position: 'insideTopLeft', fontSize: 10.5, fill: colors.muted }}
                />
              ))}
            {unknownDays.map((day) => (
              <ReferenceLine
                key={day}
                x={day}
                stroke={colors.series[2]}
                strokeDasharray="3 3"
                className="unknown-day-mark"
                label={{ value: '?', position: 'top', fontSize: 11, fill: colors.series[2] }}
              />
            ))}
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      {unknownDays.length > 0 && (
        <div className="hint" role="note" aria-label="days with unknown spend">
          Spend unknown on {unknownDays.join(', ')} (events without an FX rate): not counted as zero.
        </div>
      )}
    </div>
  );
}
