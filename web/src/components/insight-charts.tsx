import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  ComposedChart,
  Legend,
  Line,
  Pie,
  PieChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { addDays, compactMoney, count, dayIndex, exactMoney, moneyText, percent } from '../format.js';
import type { BreakdownRow, InsightDay, Money } from '../types.js';
import { colorFor, tooltipStyle, useChartColors } from './chart-theme.js';

/**
 * The dashboard's charts. Values arrive as exact decimal strings; they become numbers only to be
 * drawn, and every tooltip shows the exact figure with its currency. An unknown amount (no FX rate)
 * is drawn as a gap, never as zero, and says so. A click always leads somewhere: a day opens
 * its drill-down, a bar or slice becomes a filter.
 */

const num = (value: unknown) => Number(value ?? 0);
/** A number to draw, or null (a gap) for an unknown amount. */
const drawn = (m: Money) => (m.amount === null ? null : Number(m.amount));
const axis = (muted: string) => ({ tick: { fontSize: 11, fill: muted }, stroke: 'transparent' });

/** The most days a series is filled out to; a wider range is drawn as the days that have data. */
const MAX_FILLED_DAYS = 1500;

/**
 * Every day of the range, in order, with its data or null: a day without billing events is "no
 * data" (drawn as a gap and named), never a zero and never silently left out, which would put
 * 06-05 beside 06-07. The range is the filter's from/to, or the first to the last day with data.
 */
export function fillDays(
  days: readonly InsightDay[],
  range: { from?: string | undefined; to?: string | undefined } = {},
): { day: string; data: InsightDay | null }[] {
  const first = range.from ?? days[0]?.day;
  const last = range.to ?? days[days.length - 1]?.day;
  if (!first || !last || first > last || dayIndex(first, last) > MAX_FILLED_DAYS) {
    return days.map((d) => ({ day: d.day, data: d }));
  }
  const byDay = new Map(days.map((d) => [d.day, d]));
  const out: { day: string; data: InsightDay | null }[] = [];
  for (let day = first; day <= last; day = addDays(day, 1)) out.push({ day, data: byDay.get(day) ?? null });
  return out;
}

/** The days of a filled series without data, for the note beside the chart. */
export const missingDays = (filled: ReturnType<typeof fillDays>): string[] =>
  filled.filter((d) => d.data === null).map((d) => d.day);

/** A dashed mark on each day without data, so the gap reads as "nothing arrived", not as a dip. */
function noDataMarks(days: readonly string[], color: string, yAxisId?: string) {
  return days.map((day) => (
    <ReferenceLine
      key={`nodata-${day}`}
      x={day}
      yAxisId={yAxisId}
      stroke={color}
      strokeDasharray="3 3"
      className="no-data-mark"
      ifOverflow="extendDomain"
    />
  ));
}

export function SpendVolumeChart(props: {
  days: InsightDay[];
  currency: string;
  range?: { from?: string | undefined; to?: string | undefined };
  onDay(day: string): void;
}) {
  const c = useChartColors();
  const filled = fillDays(props.days, props.range);
  const data = filled.map(({ day, data: d }) => ({
    day,
    spend: d ? drawn(d.spend) : null,
    events: d ? d.event_count : null,
    exact: d?.spend ?? null,
    unknown: d?.unnormalized_events ?? 0,
    noData: d === null,
  }));
  const spendName = `Spend (${props.currency})`;
  return (
    <div style={{ height: 280 }} data-chart="spend-volume" data-days={data.length}>
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart data={data} margin={{ top: 8, right: 4, bottom: 0, left: 0 }}>
          <CartesianGrid vertical={false} stroke={c.grid} />
          <XAxis dataKey="day" {...axis(c.muted)} minTickGap={28} tickFormatter={(d: string) => d.slice(5)} />
          <YAxis yAxisId="spend" {...axis(c.muted)} tickFormatter={compactMoney} width={52} />
          <YAxis
            yAxisId="events"
            orientation="right"
            {...axis(c.muted)}
            tickFormatter={compactMoney}
            width={44}
          />
          <Tooltip
            {...tooltipStyle(c)}
            formatter={(value, name, item) => {
              const p = item.payload as { exact: Money | null; unknown: number; noData: boolean };
              if (p.noData || p.exact === null) return ['no data (no billing events this day)', name];
              if (name !== spendName) return [count(value), name];
              return p.exact.amount === null
                ? [`unknown: ${count(p.unknown)} events have no FX rate`, name]
                : [`${moneyText(p.exact)} (exact ${exactMoney(p.exact)})`, name];
            }}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar
            yAxisId="events"
            dataKey="events"
            name="Events"
            fill={c.series[1]}
            fillOpacity={0.55}
            radius={[3, 3, 0, 0]}
            maxBarSize={22}
            // The chart-level onClick reads the hover state, which lags a pointer that moves and
            // clicks within one frame (a tap, a fast click): the bar's own click names its day.
            // The transparent background makes the whole column a target, not just the bar.
            background={{ fill: 'transparent' }}
            onClick={(_entry, index) => {
              const point = data[index];
              if (point && !point.noData) props.onDay(point.day);
            }}
            style={{ cursor: 'pointer' }}
            isAnimationActive={false}
          />
          {noDataMarks(missingDays(filled), c.muted, 'spend')}
          <Line
            yAxisId="spend"
            dataKey="spend"
            name={spendName}
            stroke={c.series[0]}
            strokeWidth={2.2}
            dot={false}
            activeDot={{ r: 4 }}
            isAnimationActive={false}
          />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

/**
 * The success-rate axis: from a round step below the lowest day up to exactly 100 %, never past
 * it (a rate cannot exceed 100 %; recharts' "nice" auto domain drew 102–104 %).
 */
export function rateAxis(rates: readonly number[]): { domain: [number, number]; ticks: number[] } {
  const lowest = rates.length > 0 ? Math.min(...rates) : 0;
  const step = [0.5, 1, 2, 2.5, 5, 10, 20, 25].find((s) => 100 - 4 * s <= lowest) ?? 25;
  const from = Math.max(0, 100 - 4 * step);
  return { domain: [from, 100], ticks: [0, 1, 2, 3, 4].map((i) => from + i * step) };
}

export function SuccessChart(props: {
  days: InsightDay[];
  range?: { from?: string | undefined; to?: string | undefined };
  onDay(day: string): void;
}) {
  const c = useChartColors();
  const filled = fillDays(props.days, props.range);
  const data = filled.map(({ day, data: d }) => ({
    day,
    // A day without events has no rate: a gap, not 0 % and not 100 %.
    rate: d && d.success_rate !== null ? Math.min(100, num(d.success_rate) * 100) : null,
    failures: d ? num(d.failure_count) : null,
  }));
  const yMax = 100;
  const y = rateAxis(data.flatMap((d) => (d.rate === null ? [] : [d.rate])));
  return (
    <div style={{ height: 220 }} data-chart="success" data-days={data.length}>
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart
          data={data.map((d) => ({ ...d, hit: yMax }))}
          margin={{ top: 8, right: 8, bottom: 0, left: 0 }}
        >
          <CartesianGrid vertical={false} stroke={c.grid} />
          <XAxis dataKey="day" {...axis(c.muted)} minTickGap={28} tickFormatter={(d: string) => d.slice(5)} />
          <YAxis
            {...axis(c.muted)}
            domain={y.domain}
            ticks={y.ticks}
            allowDataOverflow
            tickFormatter={(v: number) => `${v.toFixed(1)}%`}
            width={52}
          />
          <Tooltip
            {...tooltipStyle(c)}
            formatter={(value, name) =>
              value === null || value === undefined
                ? 'no data'
                : name === 'Success rate'
                  ? `${Number(value).toFixed(2)}%`
                  : count(value)
            }
          />
          {noDataMarks(missingDays(filled), c.muted)}
          {/* An invisible full-height column per day is the click target: the chart-level onClick
              reads the hover state, which lags a pointer that moves and clicks within one frame. */}
          <Bar
            dataKey="hit"
            fill="transparent"
            tooltipType="none"
            legendType="none"
            isAnimationActive={false}
            className="day-target"
            onClick={(_entry, index) => {
              const point = data[index];
              if (point && point.rate !== null) props.onDay(point.day);
            }}
            style={{ cursor: 'pointer' }}
          />
          <Line
            dataKey="rate"
            name="Success rate"
            stroke={c.ok}
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

/**
 * Horizontal bars per value of a dimension, in the order the API ranked them; clicking one narrows
 * the whole dashboard to it. An unknown spend draws no bar and says "unknown".
 */
export function BreakdownBars(props: {
  rows: BreakdownRow[];
  measure: 'spend' | 'events';
  onPick(key: string): void;
  name: string;
  colorIndex?: number;
}) {
  const c = useChartColors();
  const data = props.rows.map((r) => ({
    key: r.key === null ? '(none)' : r.key,
    value: props.measure === 'spend' ? drawn(r.spend) : r.event_count,
    row: r,
  }));
  const height = Math.max(140, data.length * 30 + 30);
  return (
    <div style={{ height }} data-chart={props.name}>
      {/* The ranking as text, for screen readers (a chart is only a picture to them). */}
      <ol className="visually-hidden" aria-label={`${props.name} ranking`}>
        {data.map((d) => (
          <li key={d.key}>{`${d.key}: ${moneyText(d.row.spend)}, ${count(d.row.event_count)} events`}</li>
        ))}
      </ol>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={data} layout="vertical" margin={{ top: 0, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid horizontal={false} stroke={c.grid} />
          <XAxis type="number" {...axis(c.muted)} tickFormatter={compactMoney} />
          <YAxis
            type="category"
            dataKey="key"
            {...axis(c.muted)}
            width={110}
            tick={{ fontSize: 12, fill: c.text }}
          />
          <Tooltip
            {...tooltipStyle(c)}
            cursor={{ fill: c.grid, opacity: 0.4 }}
            formatter={(_value, _name, item) => {
              const r = (item.payload as { row: BreakdownRow }).row;
              return [
                `${moneyText(r.spend)} spend · ${count(r.event_count)} events${r.success_rate !== null ? ` · ${percent(r.success_rate)} ok` : ''}`,
                'Total',
              ];
            }}
          />
          <Bar
            dataKey="value"
            name={props.measure === 'spend' ? `Spend (${props.rows[0]?.spend.currency ?? ''})` : 'Events'}
            fill={c.series[props.colorIndex ?? 0]}
            radius={[0, 4, 4, 0]}
            maxBarSize={20}
            onClick={(_data, index) => {
              const key = data[index]?.key;
              if (key && key !== '(none)') props.onPick(key);
            }}
            style={{ cursor: 'pointer' }}
            isAnimationActive={false}
          />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export function MixDonut(props: { rows: BreakdownRow[]; onPick(key: string): void }) {
  const c = useChartColors();
  const total = props.rows.reduce((n, r) => n + r.event_count, 0);
  const data = props.rows.map((r) => ({
    key: r.key ?? '(none)',
    value: r.event_count,
    spend: r.spend,
  }));
  return (
    <div style={{ height: 240 }} data-chart="operation-mix">
      <ResponsiveContainer width="100%" height="100%">
        <PieChart>
          <Tooltip
            {...tooltipStyle(c)}
            formatter={(value, _name, item) => [
              `${count(value)} events (${((num(value) / Math.max(1, total)) * 100).toFixed(1)}%) · ${moneyText((item.payload as { spend: Money }).spend)}`,
              (item.payload as { key: string }).key,
            ]}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} layout="vertical" align="right" verticalAlign="middle" />
          <Pie
            data={data}
            dataKey="value"
            nameKey="key"
            innerRadius="52%"
            outerRadius="82%"
            paddingAngle={1.5}
            stroke={c.panel}
            onClick={(_data, index) => {
              const key = data[index]?.key;
              if (key && key !== '(none)') props.onPick(key);
            }}
            style={{ cursor: 'pointer' }}
            isAnimationActive={false}
          >
            {data.map((d) => (
              <Cell key={d.key} fill={colorFor(c, d.key)} data-key={d.key} />
            ))}
          </Pie>
        </PieChart>
      </ResponsiveContainer>
    </div>
  );
}
