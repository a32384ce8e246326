import { useEffect, useState } from 'react';

export interface ChartColors {
  series: string[];
  text: string;
  muted: string;
  grid: string;
  ok: string;
  fail: string;
  panel: string;
}

function read(): ChartColors {
  const style = getComputedStyle(document.documentElement);
  const v = (name: string) => style.getPropertyValue(name).trim();
  return {
    series: ['--chart-1', '--chart-2', '--chart-3', '--chart-4', '--chart-5', '--chart-6'].map(v),
    text: v('--text'),
    muted: v('--muted'),
    grid: v('--border'),
    ok: v('--ok'),
    fail: v('--fail'),
    panel: v('--panel'),
  };
}

/** The theme's chart colours as concrete values (SVG attributes), refreshed when the theme changes. */
export function useChartColors(): ChartColors {
  const [colors, setColors] = useState(read);
  useEffect(() => {
    const update = () => setColors(read());
    window.addEventListener('themechange', update);
    return () => window.removeEventListener('themechange', update);
  }, []);
  return colors;
}

export function tooltipStyle(colors: ChartColors) {
  return {
    contentStyle: {
      background: colors.panel,
      border: `1px solid ${colors.grid}`,
      borderRadius: 8,
      color: colors.text,
      fontSize: 12.5,
    },
    labelStyle: { color: colors.text, fontWeight: 600 },
    itemStyle: { color: colors.text },
  };
}
