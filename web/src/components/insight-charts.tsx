import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  ComposedChart,
  Legend,
  Line,
  LineChart,
  Pie,
  PieChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { compactMoney, count, exactMoney, moneyText, percent } from '../format.js';
import type { BreakdownRow, InsightDay, Money } from '../types.js';
import { tooltipStyle, useChartColors } from './chart-theme.js';

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

export function SpendVolumeChart(props: { days: InsightDay[]; currency: string; onDay(day: string): void }) {
  const c = useChartColors();
  const data = props.days.map((d) => ({
    day: d.day,
    spend: drawn(d.spend),
    events: d.event_count,
    exact: d.spend,
    unknown: d.unnormalized_events,
  }));
  const spendName = `Spend (${props.currency})`;
  return (
    <div style={{ height: 280 }} data-chart="spend-volume">
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
              if (name !== spendName) return [count(value), name];
              const p = item.payload as { exact: Money; unknown: number };
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
              const day = data[index]?.day;
              if (day) props.onDay(day);
            }}
            style={{ cursor: 'pointer' }}
            isAnimationActive={false}
          />
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

export function SuccessChart(props: { days: InsightDay[]; onDay(day: string): void }) {
  const c = useChartColors();
  const data = props.days.map((d) => ({
    day: d.day,
    rate: num(d.success_rate) * 100,
    failures: num(d.failure_count),
  }));
  return (
    <div style={{ height: 220 }} data-chart="success">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart
          data={data}
          margin={{ top: 8, right: 8, bottom: 0, left: 0 }}
          onClick={(state) => state?.activeLabel && props.onDay(String(state.activeLabel))}
          style={{ cursor: 'pointer' }}
        >
          <CartesianGrid vertical={false} stroke={c.grid} />
          <XAxis dataKey="day" {...axis(c.muted)} minTickGap={28} tickFormatter={(d: string) => d.slice(5)} />
          <YAxis
            {...axis(c.muted)}
            domain={['auto', 'auto']}
            tickFormatter={(v: number) => `${v.toFixed(1)}%`}
            width={52}
          />
          <Tooltip
            {...tooltipStyle(c)}
            formatter={(value, name) =>
              name === 'Success rate' ? `${Number(value).toFixed(2)}%` : count(value)
            }
          />
          <Line
            dataKey="rate"
            name="Success rate"
            stroke={c.ok}
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
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
            {data.map((d, i) => (
              <Cell key={d.key} fill={c.series[i % c.series.length]} />
            ))}
          </Pie>
        </PieChart>
      </ResponsiveContainer>
    </div>
  );
}
