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

/**
 * Known categories (the export format's operation types) get a fixed palette slot, so "compute"
 * keeps its colour whatever the filters leave on screen; any other key gets a slot from a hash of
 * its text, which is equally stable. A colour is never picked by position in the filtered set.
 */
const FIXED_SLOTS: Record<string, number> = {
  compute: 0,
  storage: 1,
  read: 2,
  write: 3,
  transfer: 4,
  query: 5,
};

export function colorSlot(key: string, slots: number): number {
  const fixed = FIXED_SLOTS[key];
  if (fixed !== undefined) return fixed % slots;
  // FNV-1a: a cheap, well-spread hash, the same in every browser.
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % slots;
}

export function colorFor(colors: ChartColors, key: string): string {
  return colors.series[colorSlot(key, colors.series.length)] ?? colors.muted;
}
