/** A figure over the repetitions: what the table prints and the JSON keeps (samples included). */
export interface Figure {
  section: string;
  name: string;
  unit: string;
  samples: number[];
  min: number;
  median: number;
  max: number;
  note?: string;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function figure(
  section: string,
  name: string,
  unit: string,
  samples: readonly number[],
  note?: string,
): Figure {
  const clean = samples.filter((n) => Number.isFinite(n));
  return {
    section,
    name,
    unit,
    samples: [...clean],
    min: clean.length ? Math.min(...clean) : Number.NaN,
    median: median(clean),
    max: clean.length ? Math.max(...clean) : Number.NaN,
    ...(note ? { note } : {}),
  };
}

/** Numbers as a person reads them: 3 significant digits, thousands grouped for big ones. */
export function fmt(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return '-';
  if (unit === 'MB' || unit === 'x' || unit === 's')
    return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  const abs = Math.abs(value);
  if (abs >= 10_000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function renderTable(figures: readonly Figure[]): string {
  // Notes go last so a long one does not push the numbers out of line.
  const header = ['section', 'figure', 'unit', 'min', 'median', 'max', 'n', 'note'];
  const rows = figures.map((f) => [
    f.section,
    f.name,
    f.unit,
    fmt(f.min, f.unit),
    fmt(f.median, f.unit),
    fmt(f.max, f.unit),
    String(f.samples.length),
    f.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const numeric = new Set([3, 4, 5, 6]);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A goal from the brief, judged on a median (or a max, for memory) with its margin. */
export interface Goal {
  name: string;
  status: 'PASS' | 'MISS' | 'SKIPPED';
  measured: number | null;
  limit: number;
  unit: string;
  /** e.g. "38% under the limit" or "2.1x over". */
  margin: string;
  note?: string;
}

/** `inclusive`: the limit itself passes (≤), otherwise it must be strictly below (<). */
export function judge(
  name: string,
  measured: number | null,
  limit: number,
  unit: string,
  inclusive: boolean,
  note?: string,
): Goal {
  if (measured === null || !Number.isFinite(measured)) {
    return {
      name,
      status: 'SKIPPED',
      measured: null,
      limit,
      unit,
      margin: 'not measured',
      ...(note ? { note } : {}),
    };
  }
  const pass = inclusive ? measured <= limit : measured < limit;
  const pct = Math.abs((measured / limit - 1) * 100);
  const margin = pass
    ? `${pct.toFixed(0)}% under the limit`
    : `${pct.toFixed(0)}% over the limit (${(measured / limit).toFixed(2)}x of it)`;
  return { name, status: pass ? 'PASS' : 'MISS', measured, limit, unit, margin, ...(note ? { note } : {}) };
}

export function renderGoals(goals: readonly Goal[]): string {
  return goals
    .map((g) => {
      const value = g.measured === null ? '-' : `${fmt(g.measured, g.unit)} ${g.unit}`;
      return `${g.status.padEnd(7)} ${g.name}: ${value} (limit ${fmt(g.limit, g.unit)} ${g.unit}; ${g.margin})${g.note ? `\n        ${g.note}` : ''}`;
    })
    .join('\n');
}
