import {
  Bar,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { compactMoney, count, duration } from '../format.js';
import type { Materializations } from '../types.js';
import { tooltipStyle, useChartColors } from './chart-theme.js';

/** Rows written (bars) and duration (line) per materialization, oldest on the left. */
export function HistoryChart(props: { rows: Materializations['materializations'] }) {
  const colors = useChartColors();
  const points = [...props.rows].reverse().map((r) => ({
    when: String(r.finished_at ?? r.started_at ?? '')
      .slice(5, 16)
      .replace('T', ' '),
    rows: Number(r.row_count ?? 0),
    duration: Number(r.duration_ms ?? 0),
    status: String(r.status),
  }));
  return (
    <div style={{ height: 220 }}>
      <ResponsiveContainer width="100%" height="100%">
        <ComposedChart data={points} margin={{ top: 10, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid vertical={false} stroke={colors.grid} />
          <XAxis
            dataKey="when"
            tick={{ fontSize: 11, fill: colors.muted }}
            minTickGap={24}
            stroke={colors.grid}
          />
          <YAxis
            yAxisId="rows"
            tick={{ fontSize: 11, fill: colors.muted }}
            tickFormatter={compactMoney}
            stroke={colors.grid}
            width={48}
          />
          <YAxis
            yAxisId="ms"
            orientation="right"
            tick={{ fontSize: 11, fill: colors.muted }}
            tickFormatter={(v: number) => duration(v)}
            stroke={colors.grid}
            width={64}
          />
          <Tooltip
            {...tooltipStyle(colors)}
            formatter={(value, name) => (name === 'Duration' ? duration(Number(value)) : count(value))}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar
            yAxisId="rows"
            dataKey="rows"
            name="Rows"
            fill={colors.series[0]}
            radius={[3, 3, 0, 0]}
            maxBarSize={26}
            isAnimationActive={false}
          />
          <Line
            yAxisId="ms"
            dataKey="duration"
            name="Duration"
            stroke={colors.series[2]}
            strokeWidth={2}
            dot={{ r: 2 }}
            isAnimationActive={false}
          />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
